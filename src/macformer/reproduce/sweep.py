"""What `make reproduce-lra` runs: the profile, the rows (attention × kernel × ppSBN),
the tasks and the seeds, as plain data; each job is composed from conf/train.yaml
exactly as `python -m macformer.train <overrides>` would compose it.

Rows (the README's "Results and reproduction" section explains the choices):
- softmax, rfa: the baselines;
- kernelized × kernel: exact O(N²) kernel attention, the D → ∞ limit of RMFA, only
  where the sequence length allows it (≤ KERNELIZED_MAX_LENGTH: not Path-X);
- rmfa × kernel: Macformer, in the causal form its authors' LRA code ran;
- ablations: rmfa × kernel without ppSBN; rmfa and kernelized in the non-causal form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from macformer.attention import KERNELS, has_kernel, variant_label
from macformer.data.tasks import LRA_TASKS

# Longer sequences than this make the [batch, heads, N, N] kernel matrix of exact
# kernelized attention too large for one GPU (Path-X: 16384² × 4 B = 1 GiB per head
# and example), so that row is not run there.
KERNELIZED_MAX_LENGTH = 4096


@dataclass(frozen=True)
class Row:
    name: str  # the table row, e.g. "rmfa-inverse-noppsbn"
    overrides: tuple[str, ...]


def row(attention: str, kernel: str | None = None, ppsbn: bool = True, causal: bool = True) -> Row:
    """A kernel attention (kernel given) runs causally unless causal=False; the row is named
    by the registry's label, as its runs' folder is (e.g. rmfa-exp-causal, rmfa-exp-noncausal)."""
    overrides = [f"attention={attention}"] + ([f"kernel={kernel}"] if kernel else [])
    if not ppsbn:
        overrides.append("attention.options.ppsbn=false")
    if not causal:
        overrides.append("attention.options.causal=false")
    options = {"kernel": kernel, "ppsbn": ppsbn, "causal": causal} if has_kernel(attention) else {}
    return Row(variant_label(attention, options), tuple(overrides))


FULL_ROWS: tuple[Row, ...] = (
    row("softmax"), row("rfa"),
    *(row("kernelized", k) for k in KERNELS),
    *(row("rmfa", k) for k in KERNELS),
    *(row("rmfa", k, ppsbn=False) for k in KERNELS),
    row("kernelized", "exp", causal=False), row("rmfa", "exp", causal=False),
)


@dataclass(frozen=True)
class Sweep:
    profile: str
    tasks: tuple[str, ...]
    rows: tuple[Row, ...]
    seeds: tuple[int, ...]
    isolation: str  # "fork" (one warm driver, forked per run) or "subprocess" (fresh python)
    run_timeout_s: float | None  # a run taking longer is stopped and reported failed
    why: str  # one line for the README and the driver's output


SWEEPS: dict[str, Sweep] = {
    # Seconds per run: each kind of row once on the default kernel (the kernels differ by
    # one config value, which the cpu and paper sweeps exercise), ListOps and Pathfinder
    # generated at tiny sizes: about a minute on 2 cores.
    "smoke": Sweep(
        "smoke", LRA_TASKS,
        (row("softmax"), row("rfa"), row("kernelized", "exp"), row("rmfa", "exp"),
         row("rmfa", "exp", causal=False), row("rmfa", "exp", ppsbn=False)),
        seeds=(0,), isolation="fork", run_timeout_s=300,
        why="wiring check: each kind of row once, accuracies mean nothing"),
    # Every kind of row and the RMFA kernels (the paper's main comparison), one seed, the
    # short training of conf/profile/cpu.yaml on reduced generated sets. trigh is left
    # out: cosh t + sinh t = eᵗ, so with the same seed its run is exp's, bit for bit.
    # Exact kernelized attention and the ablations (non-causal, no ppSBN) run on the
    # default kernel only: their other kernels are GPU work.
    "cpu": Sweep(
        "cpu", LRA_TASKS,
        (row("softmax"), row("rfa"), row("kernelized", "exp"),
         *(row("rmfa", k) for k in KERNELS if k != "trigh"),
         row("rmfa", "exp", causal=False), row("rmfa", "exp", ppsbn=False)),
        seeds=(0,), isolation="fork", run_timeout_s=1200,
        why="every kind of row, four RMFA kernels (trigh = exp), one seed, short training"),
    # The full LRA protocol, three seeds, every task including Path-X.
    "paper": Sweep(
        "paper", (*LRA_TASKS, "pathx"), FULL_ROWS, seeds=(0, 1, 2), isolation="subprocess",
        run_timeout_s=None, why="the full protocol, every row, three seeds"),
}


def choose_profile(requested: str) -> tuple[str, str]:
    """(profile, why). `auto`: paper when a CUDA GPU is visible, else cpu."""
    if requested != "auto":
        if requested not in SWEEPS:
            raise ValueError(f"unknown profile {requested!r}; choose from auto, {', '.join(SWEEPS)}")
        return requested, f"PROFILE={requested} was asked for"
    import torch

    if torch.cuda.is_available():
        return "paper", (f"a CUDA GPU is visible ({torch.cuda.get_device_name(0)}), so the full "
                         "protocol runs")
    return "cpu", ("no CUDA GPU is visible, so the short CPU protocol runs "
                   "(PROFILE=paper forces the full one)")


@dataclass(frozen=True)
class Job:
    task: str
    row: str
    seed: int
    overrides: tuple[str, ...]  # for `python -m macformer.train`
    run_dir: Path
    config_hash: str  # of the resolved settings, as training computes it
    facts: dict  # macformer.lifecycle.record.run_facts: what the run is, as its summary records it
    generable: bool  # the run generates its data when missing (macformer.data.generate)

    @property
    def seq_len(self) -> int:
        return self.facts["seq_len"]

    @property
    def name(self) -> str:
        return f"{self.task} {self.row} seed{self.seed}"


def plan(sweep: Sweep, extra_overrides: tuple[str, ...] = ()) -> list[Job]:
    """Every job of the sweep, task by task, composed from the real configs."""
    from macformer.config import compose_run, output_dir
    from macformer.data.generate import GENERABLE
    from macformer.lifecycle.record import run_facts
    from macformer.lifecycle.resume import config_hash

    jobs = []
    for task in sweep.tasks:
        for r in sweep.rows:
            for seed in sweep.seeds:
                overrides = (f"profile={sweep.profile}", f"task={task}", *r.overrides,
                             f"seed={seed}", *extra_overrides)
                cfg = compose_run(overrides)
                facts = run_facts(cfg)
                if r.overrides[0] == "attention=kernelized" and facts["seq_len"] > KERNELIZED_MAX_LENGTH:
                    continue
                jobs.append(Job(task, r.name, seed, overrides, output_dir(cfg), config_hash(cfg),
                                facts, task in GENERABLE))
    return jobs

