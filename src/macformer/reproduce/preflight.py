"""What `macformer-reproduce` checks before anything runs, beyond each argument's own value
(cli.py): the rows and tasks it names exist in the sweep, the GPUs and cores it asks for are
there, and no earlier result would be deleted unasked. Each problem is one line (Refused);
the jobs' configs themselves are checked as they are planned (sweep.plan).

A run folder that holds a run of other settings (an override such as task.lr=0.002, a
changed profile) is replaced only when nothing of value is lost: a completed run, or one
with a checkpoint to resume from, is kept unless --force says to replace it (and the
driver names each run it replaces); a run that ended with nothing to show (failed, no
checkpoint) is started afresh, as training would.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from macformer.lifecycle.record import COMPLETED, OTHER_SETTINGS, earlier_run

from .groups import GROUPS, load_group
from .slots import cpu_cores
from .sweep import Job, Sweep, row


class Refused(Exception):
    """The command cannot run as given: one line saying why and what to do."""


def check_selection(sweeps: list[Sweep], tasks, rows) -> None:
    """--tasks / --rows name only tasks and rows of the sweep (else nothing of theirs would run)."""
    groups = ", ".join(s.group for s in sweeps)
    for flag, asked, known in (("--tasks", tasks, [t for s in sweeps for t in s.tasks]),
                               ("--rows", rows, [r.name for s in sweeps for r in s.rows])):
        unknown = [name for name in asked or () if name not in known]
        if unknown:
            elsewhere = _groups_holding(unknown[0], flag)
            hint = f"; {unknown[0]} is in sweep group {elsewhere}: add --sweep {elsewhere}" if elsewhere else ""
            raise Refused(f"{flag}: {', '.join(map(repr, unknown))} not in sweep {groups}; choose from "
                          f"{', '.join(dict.fromkeys(known))}{hint}")


def _groups_holding(name: str, flag: str) -> str:
    holding = [g for g in GROUPS
               if name in (load_group(g, row).tasks if flag == "--tasks" else
                           [r.name for r in load_group(g, row).rows])]
    return ",".join(holding)


def check_device(args) -> None:
    """--gpus names GPUs this machine has; --jobs on a CPU is at most its cores."""
    if args.gpus not in ("all", "none"):
        import torch

        if not torch.cuda.is_available():
            raise Refused(f"--gpus {args.gpus}: no CUDA GPU is visible on this machine "
                          "(torch.cuda.is_available() is False); leave --gpus out, or --gpus none, "
                          "to run on the CPU")
        from .slots import detect

        try:
            detect(args.gpus)
        except ValueError as error:
            raise Refused(str(error)) from None
    cores = cpu_cores()
    if args.launcher is None and isinstance(args.jobs, int) and args.jobs > cores and _runs_on_cpu(args):
        raise Refused(f"--jobs {args.jobs}: more runs side by side than the {cores} CPU core(s) this "
                      f"process may use; use --jobs {cores} or fewer, or --jobs auto (measured)")


def _runs_on_cpu(args) -> bool:
    if args.gpus == "none":
        return True
    import torch

    return not torch.cuda.is_available()


def holds_work(job: Job, summary: dict | None) -> bool:
    """Whether the folder's earlier run is worth keeping: a completed result, or a checkpoint."""
    checkpoints = Path(job.run_dir) / "checkpoints"
    return ((summary or {}).get("status") == COMPLETED
            or any((checkpoints / name).exists() for name in ("last.ckpt", "best.ckpt")))


def allow_replacing(jobs: list[Job], force: bool) -> tuple[list[Job], list[str]]:
    """The jobs, those whose folders may be cleared for them marked `replaces`, and the lines
    naming what --force replaces. Refused when an earlier run worth keeping is in the way."""
    out, kept, lines = [], [], []
    for job in jobs:
        held, summary, earlier_hash = earlier_run(job.run_dir, job.config_hash)
        if held != OTHER_SETTINGS:
            out.append(job)
            continue
        status = (summary or {}).get("status") or "unfinished"
        if holds_work(job, summary):
            if not force:
                kept.append((job, status, earlier_hash))
                continue
            lines.append(f"reproduce: --force: replacing {job.name}: its {status} run of other settings "
                         f"(config_hash {earlier_hash}, now {job.config_hash}) in {job.run_dir} is deleted when "
                         "this run starts")
        out.append(replace(job, replaces=True))
    if kept:
        job, status, earlier_hash = kept[0]
        more = f" and {len(kept) - 1} more" if len(kept) > 1 else ""
        raise Refused(f"{job.run_dir} holds a {status} run of other settings (config_hash {earlier_hash}, "
                      f"now {job.config_hash}){more}; nothing was run. Keep it and give these settings "
                      f"their own folders with the override run.tag=NAME, or replace it with --force")
    return out, lines
