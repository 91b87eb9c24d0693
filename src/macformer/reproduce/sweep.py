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

from omegaconf import DictConfig

KERNELS: tuple[str, ...] = ("exp", "inverse", "log", "trigh", "sqrt")
LRA_TASKS: tuple[str, ...] = ("listops", "text", "retrieval", "image", "pathfinder")
# Longer sequences than this make the [batch, heads, N, N] kernel matrix of exact
# kernelized attention too large for one GPU (Path-X: 16384² × 4 B = 1 GiB per head
# and example), so that row is not run there.
KERNELIZED_MAX_LENGTH = 4096


@dataclass(frozen=True)
class Row:
    name: str  # the table row, e.g. "rmfa-inverse-noppsbn"
    overrides: tuple[str, ...]


def row(attention: str, kernel: str | None = None, ppsbn: bool = True, causal: bool = True) -> Row:
    """A kernel attention (kernel given) runs causally unless causal=False; its name says
    the form, as the run label does (e.g. rmfa-exp-causal, rmfa-exp-noncausal)."""
    overrides = [f"attention={attention}"] + ([f"kernel={kernel}"] if kernel else [])
    if not ppsbn:
        overrides.append("attention.options.ppsbn=false")
    if not causal:
        overrides.append("attention.options.causal=false")
    form = ["causal" if causal else "noncausal"] if kernel else []
    name = "-".join([attention] + ([kernel] if kernel else []) + ([] if ppsbn else ["noppsbn"]) + form)
    return Row(name, tuple(overrides))


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
    seq_len: int
    config_hash: str  # of the resolved settings, as training computes it
    facts: dict  # task, attention, kernel, ppsbn, num_features, seed, profile (summary keys)

    @property
    def name(self) -> str:
        return f"{self.task} {self.row} seed{self.seed}"


def plan(sweep: Sweep, extra_overrides: tuple[str, ...] = ()) -> list[Job]:
    """Every job of the sweep, task by task, composed from the real configs."""
    from hydra import compose, initialize_config_dir

    from macformer.train import CONFIG_DIR
    from macformer.training.resume import config_hash

    jobs = []
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        for task in sweep.tasks:
            for r in sweep.rows:
                for seed in sweep.seeds:
                    overrides = (f"profile={sweep.profile}", f"task={task}", *r.overrides,
                                 f"seed={seed}", *extra_overrides)
                    cfg = compose("train", overrides=list(overrides))
                    seq_len = _seq_len(cfg)
                    if r.overrides[0] == "attention=kernelized" and seq_len > KERNELIZED_MAX_LENGTH:
                        continue
                    jobs.append(Job(task, r.name, seed, overrides, Path(cfg.run.dir), seq_len,
                                    config_hash(cfg), _facts(cfg)))
    return jobs


def _seq_len(cfg: DictConfig) -> int:
    cut = cfg.data.get("max_length")
    return int(cfg.task.seq_len if cut is None else min(cut, cfg.task.seq_len))


def _facts(cfg: DictConfig) -> dict:
    from macformer.attention import attention_form

    options = cfg.attention.get("options") or {}
    has_kernel = "kernel" in options
    return {"task": cfg.task.name, "attention": cfg.attention.name,
            "kernel": options.get("kernel") if has_kernel else None,
            "ppsbn": bool(options.get("ppsbn", True)) if has_kernel else None,
            "num_features": options.get("num_features"),
            "causal": attention_form(cfg.attention.name, options),
            "protocol": cfg.protocol.name, "dataset": cfg.data.get("dataset") or "lra",
            "seed": int(cfg.seed),
            "profile": cfg.run.profile, "batch_size": int(cfg.task.batch_size),
            "max_steps": int(cfg.task.max_steps), "generate": bool(cfg.task.get("generate", False))}

