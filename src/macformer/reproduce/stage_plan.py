"""The driver's first stage: which profile and sweep groups, every job of them composed and
checked as macformer-train checks it (nothing run yet), and which tasks have no data.
Also the answers that end the command here: --print-profile, --print-data-vars, --dry-run,
and every refusal (one line, exit 2)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from macformer.data.missing import missing_tasks

from .preflight import Refused, allow_replacing, check_device, check_selection
from .profiles import data_vars
from .sweep import PROFILES, Job, PlanError, Sweep, choose_profile, plan_groups, sweeps_of


class Done(Exception):
    """The command ends at this stage with exit status `code` (its output already printed)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Planned:
    profile: str
    sweeps: list[Sweep]
    jobs: list[Job]
    missing: dict[str, str]  # task -> how to fetch it, for tasks without data that no run generates
    isolation: str  # fork or subprocess
    timeout_s: float | None  # per run
    started: float  # time.monotonic() when the command was accepted


def refuse(error: Exception) -> Done:
    """A command that cannot run as given: one line on stderr, exit 2 (as argparse's errors)."""
    print(f"macformer-reproduce: error: {error}", file=sys.stderr, flush=True)
    return Done(2)


def plan_stage(args) -> Planned:
    try:  # the rest of what the command asks for, checked before anything is printed or run
        profile, why = choose_profile(args.profile)
        if args.print_profile:
            print(profile)
            raise Done(0)
        if args.print_data_vars:
            print(data_vars(profile))
            raise Done(0)
        sweeps = sweeps_of(profile, args.sweep or PROFILES[profile].groups)
        check_selection(sweeps, args.tasks, args.rows)
        check_device(args)
    except (Refused, ValueError) as error:
        raise refuse(error) from None
    isolation = args.isolation or sweeps[0].isolation
    timeout_s = args.run_timeout if args.run_timeout is not None else sweeps[0].run_timeout_s
    started = time.monotonic()
    print(f"reproduce: profile {profile}: {why}.", flush=True)
    for s in sweeps:
        print(f"reproduce: {s.why}; tasks {', '.join(s.tasks)}; rows "
              f"{', '.join(r.name for r in s.rows)}; seeds {', '.join(map(str, args.seeds or s.seeds))}.",
              flush=True)

    # run.sweep_id groups the runs on W&B (logger=wandb); it does not change a run's settings.
    extra = (f"paths.data_dir={args.data_dir}", f"paths.results_dir={args.results_dir}",
             f"run.sweep_id=reproduce-{profile}", *args.overrides)
    try:  # every job composed and checked as macformer-train checks it; no earlier result lost unasked
        jobs, replacing = allow_replacing(plan_groups(sweeps, extra, args.tasks, args.rows, args.seeds,
                                                      on_this_machine=args.launcher != "slurm"), args.force)
    except (Refused, PlanError) as error:
        raise refuse(error) from None
    for line in replacing:
        print(line, flush=True)
    missing = missing_tasks(args.data_dir, jobs)
    if args.dry_run:
        for job in jobs:
            state = "missing data" if job.task in missing else "run"
            print(f"{job.name}: {state}: python -m macformer.train {' '.join(job.overrides)}")
        print(f"reproduce: {len(jobs)} runs planned")
        raise Done(0)
    return Planned(profile, sweeps, jobs, missing, isolation, timeout_s, started)
