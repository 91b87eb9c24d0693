"""What `make reproduce-lra` runs: a profile (the training protocol: smoke, cpu, paper) and
the sweep groups of conf/sweep/*.yaml (which rows on which tasks), times the profile's
seeds (a profile's groups, seeds, isolation and run time limit: the `reproduce:` block
of conf/profile/<name>.yaml, read by profiles.py); each job is composed from
conf/train.yaml exactly as `python -m macformer.train <overrides>` would compose it.

Groups (`--sweep core,ablations,pathx`):
- core: softmax, rfa and rmfa × kernel (Macformer, in the causal form its authors'
  LRA code ran) on the five LRA tasks: the paper's comparison, the paper profile's default;
- ablations: kernelized × kernel (exact O(N²) kernel attention, the D → ∞ limit of
  RMFA), rmfa × kernel without ppSBN, and the non-causal forms;
- pathx: Path-X, where LRA reports every model at chance;
- smoke, cpu: the small profiles' defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from macformer.attention import has_kernel

from .groups import GROUPS, Row, load_group
from .profiles import PROFILES, Profile  # conf/profile/<name>.yaml's reproduce: block

__all__ = ["GROUPS", "PROFILES", "SWEEPS", "Job", "PlanError", "Profile", "Row", "Sweep",
           "choose_profile", "plan", "plan_groups", "row", "sweeps_of"]


def row(attention: str, kernel: str | None = None, ppsbn: bool = True, causal: bool = True,
        pretrain: str | None = None) -> Row:
    """A kernel attention (kernel given) runs causally unless causal=False; `pretrain` (mlm,
    lm) pretrains it on the task's inputs first. The row is named as its runs' folder is,
    e.g. rmfa-exp-causal, rmfa-exp-noncausal, softmax-spt-mlm (macformer.config.run_label)."""
    from macformer.config import run_label

    overrides = [f"attention={attention}"] + ([f"kernel={kernel}"] if kernel else [])
    if not ppsbn:
        overrides.append("attention.options.ppsbn=false")
    if not causal:
        overrides.append("attention.options.causal=false")
    if pretrain:
        overrides.append(f"pretrain={pretrain}")
    options = {"kernel": kernel, "ppsbn": ppsbn, "causal": causal} if has_kernel(attention) else {}
    return Row(run_label({"name": attention, "options": options}, "lra", pretrain), tuple(overrides))


@dataclass(frozen=True)
class Sweep:
    """One group's rows on its tasks under a profile, with the profile's seeds."""

    profile: str
    tasks: tuple[str, ...]
    rows: tuple[Row, ...]
    seeds: tuple[int, ...]
    isolation: str
    run_timeout_s: float | None
    why: str
    group: str = ""  # the conf/sweep group it comes from


def sweeps_of(profile: str, groups: tuple[str, ...] | None = None) -> list[Sweep]:
    """The profile's sweep, one Sweep per group (the profile's own groups by default)."""
    p = PROFILES[profile]
    out = []
    for name in groups or p.groups:
        group = load_group(name, row)
        out.append(Sweep(profile, group.tasks, group.rows, p.seeds, p.isolation, p.run_timeout_s,
                         f"{p.why}; sweep {name}: {group.about}", name))
    return out


# Each profile's default sweep (its first group), for scripts and tests.
SWEEPS: dict[str, Sweep] = {name: sweeps_of(name)[0] for name in PROFILES}


def choose_profile(requested: str) -> tuple[str, str]:
    """(profile, why). `auto`: paper when a CUDA GPU is visible, else cpu."""
    if requested != "auto":
        if requested not in PROFILES:
            raise ValueError(f"unknown profile {requested!r}; choose from auto, {', '.join(PROFILES)}")
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
    group: str = ""  # the sweep group that asked for it
    eval_every: int = 1  # steps between validations
    # Its folder holds a run of other settings that the sweep may clear (preflight.allow_replacing).
    replaces: bool = False
    pretrain_steps: int = 0  # self-pretraining steps before the fine-tuning (pretrain=mlm|lm)
    pretrain_eval_every: int = 1

    @property
    def seq_len(self) -> int:
        return self.facts["seq_len"]

    @property
    def tokens(self) -> int:
        """Positions trained on: steps × batch × padded length (× 2 documents for retrieval)."""
        pair = 2 if self.task == "retrieval" else 1
        return self.facts["max_steps"] * self.facts["batch_size"] * self.facts["seq_len"] * pair

    @property
    def name(self) -> str:
        return f"{self.task} {self.row} seed{self.seed}"


class PlanError(ValueError):
    """A job of the sweep that `macformer-train` would refuse: one line naming the run."""


def plan(sweep: Sweep, extra_overrides: tuple[str, ...] = (), group: str = "",
         on_this_machine: bool = True) -> list[Job]:
    """Every job of the sweep, task by task, composed from the real configs and checked as
    `macformer-train` checks its command line (PlanError: the first job it would refuse).
    `on_this_machine=False`: the runs go to a cluster, which checks their hardware itself."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from macformer.checks import ConfigError
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
                try:
                    cfg = compose_run(overrides)
                    check_run(cfg, overrides, on_this_machine)
                except (ConfigError, HydraException, OmegaConfBaseException, ValueError) as error:
                    raise PlanError(f"{refusal(error, overrides)} (run {task} {r.name} seed{seed})") from None
                pretrained = cfg.pretrain.objective != "none"
                jobs.append(Job(task, r.name, seed, overrides, output_dir(cfg), config_hash(cfg),
                                run_facts(cfg), task in GENERABLE, group, int(cfg.task.eval_every),
                                pretrain_steps=int(cfg.pretrain.steps) if pretrained else 0,
                                pretrain_eval_every=int(cfg.pretrain.eval_every) if pretrained else 1))
    return jobs


def check_run(cfg, overrides: tuple[str, ...], on_this_machine: bool) -> None:
    """The checks `macformer-train` runs before it trains (ConfigError)."""
    from macformer.checks import check_config, check_logger_login

    check_config(cfg, overrides, on_this_machine=on_this_machine)
    check_logger_login(cfg)


def refusal(error: Exception, overrides: tuple[str, ...]) -> str:
    """`error` from composing or checking a run's config, as the one line macformer-train gives."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException

    from macformer.checks.command_line import plus_prefix_problem

    if isinstance(error, OverrideParseException):
        return (f"{error.override!r} is not an override Hydra can read (key=value, +key=value or ~key; "
                f"an option's values end at the first override)")
    if isinstance(error, MissingConfigException) and error.options:
        group, _, name = str(error.missing_cfg_file).rpartition("/")
        return (f"{group}={name}: no such {group} config; choose from {', '.join(error.options)} "
                f"(conf/{group}/)")
    text = " ".join(str(error).split())
    if isinstance(error, HydraException):
        return plus_prefix_problem(text, overrides) or text
    return text or type(error).__name__


def plan_groups(sweeps: list[Sweep], extra_overrides: tuple[str, ...] = (), tasks=None,
                rows=None, seeds=None, on_this_machine: bool = True) -> list[Job]:
    """The jobs of several groups, each run once (a row two groups share is planned once),
    filtered to `tasks` / `rows` / `seeds` when given."""
    from dataclasses import replace

    jobs, seen = [], set()
    for sweep in sweeps:
        sweep = replace(sweep, tasks=tuple(t for t in sweep.tasks if tasks is None or t in tasks),
                        rows=tuple(r for r in sweep.rows if rows is None or r.name in rows),
                        seeds=tuple(seeds) if seeds else sweep.seeds)
        for job in plan(sweep, extra_overrides, sweep.group, on_this_machine):
            if job.run_dir not in seen:
                seen.add(job.run_dir)
                jobs.append(job)
    return jobs
