"""The driver's third stage on this machine: the runs whose data is missing are recorded
as missing, runs a killed driver left behind are waited for, completed ones are skipped,
and the others run on the device's slots, longest first, each shown as it starts and ends
with the sweep's count and time left; how long it took beside the estimate."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from macformer.lifecycle.record import (
    COMPLETED,
    DONE,
    MISSING,
    OTHER_SETTINGS,
    earlier_run,
    read_summary,
)

from .closing import accuracy_text
from .cost import Costed, actual_table, record_cost, wall_seconds
from .progress import Progress, clock
from .runner import driver_summary, write_record
from .scheduler import run_on_slots
from .stage_cost import CostedPlan
from .stage_plan import Planned
from .sweep import Job


@dataclass(frozen=True)
class Ran:
    outcomes: list[tuple[Job, dict, str]]  # (job, its summary, what happened)
    interrupted: bool  # Ctrl-C stopped the sweep
    table: str  # estimated and actual hours
    skipped: list[Costed]  # runs the plan skipped, with why


def run_stage(args, planned: Planned, plan: CostedPlan) -> Ran:
    runnable = [c for c in plan.runs if c.skip is None]
    estimates = {c.job.run_dir: c.seconds for c in runnable}
    known = [s for s in estimates.values() if s is not None]
    wall_estimate = wall_seconds(known, len(plan.run_slots)) if len(known) == len(runnable) else None
    sweep_start = time.monotonic()
    outcomes, interrupted = sweep_jobs([j for j in planned.jobs if j.task in planned.missing], runnable,
                                       planned.missing, plan.run_slots, planned.isolation, planned.timeout_s,
                                       args.progress_every or None, plan.device.name, plan.slot_layout)
    sweep_wall = time.monotonic() - sweep_start
    table = actual_table([c.job for c in runnable], wall_estimate, sweep_wall)
    print("\nreproduce: estimated and actual hours:\n" + table, flush=True)
    return Ran(outcomes, interrupted, table, [c for c in plan.runs if c.skip])


def sweep_jobs(missing_jobs: list[Job], runnable, missing: dict[str, str], run_slots, isolation: str,
               timeout_s: float | None, progress_every_s: float | None, device: str,
               slot_layout: str) -> tuple[list[tuple[Job, dict, str]], bool]:
    """Record the runs of missing data, then run the others on `run_slots`, longest first,
    showing a training run's step and ETA every `progress_every_s` seconds; return (job,
    summary, what happened) for each, and whether Ctrl-C stopped the sweep."""
    planned: dict[str, list[float]] = {}
    for c in runnable:
        if c.seconds is not None and not c.done:
            planned.setdefault(c.job.task, []).append(c.seconds)
    # The counter counts the runs to train: not those whose data is missing or that completed before.
    progress = Progress([c.job.task for c in runnable if not c.done],
                        {t: sum(s) / len(s) for t, s in planned.items()}, len(run_slots))
    outcomes = []
    print(f"reproduce: {progress.total} runs to train on {len(run_slots)} slot(s); runs and logs under "
          f"<run dir>/reproduce.log, run dirs under {Path(runnable[0].job.run_dir).parents[3] if runnable else '-'}",
          flush=True)
    for task, detail in missing.items():
        print(f"reproduce: {task}: data missing, its runs are recorded as missing: {detail}", flush=True)
    for job in missing_jobs:  # they cost nothing; the estimate then counts only real runs
        previous = read_summary(job.run_dir)
        summary = previous if previous and previous.get("status") == COMPLETED else None
        if summary is None:
            summary = driver_summary(job, MISSING, missing[job.task])
            write_record(job, summary)
        outcomes.append((job, summary, MISSING))
    from .held import HELD, wait_for_orphans

    # Runs a killed driver left training: let them record themselves and end, then resume them.
    wait_for_orphans([c.job.run_dir for c in runnable], lambda line: print(line, flush=True))
    estimates, to_run = {}, []
    for c in runnable:
        held, previous, earlier_hash = earlier_run(c.job.run_dir, c.job.config_hash)
        if held == DONE:
            outcomes.append((c.job, previous, "done before"))
            print(f"reproduce: {c.job.name}: completed before ({accuracy_text(previous)}), skipped", flush=True)
            continue
        job = c.job
        if held == OTHER_SETTINGS:  # the profile or code changed since: that result is of other settings
            if not job.replaces:  # appeared after the checks (preflight.py): kept, never deleted unasked
                print(f"reproduce: {job.name}: {job.run_dir} now holds a run of other settings; kept, "
                      "not run", flush=True)
                outcomes.append((job, {"status": "kept"}, "kept"))
                continue
            print(f"reproduce: {job.name}: its earlier run used other settings (config_hash "
                  f"{earlier_hash}, now {job.config_hash}); starting it afresh", flush=True)
            job = replace(job, overrides=(*job.overrides, "run.force=true"))
        estimates[job.run_dir] = c.seconds
        to_run.append(job)
    # Longest first, so that the last runs to start are short ones and no slot idles long.
    to_run.sort(key=lambda j: -(estimates[j.run_dir] if estimates[j.run_dir] is not None else j.tokens))

    def started(job: Job, slot) -> None:
        where = f" on {slot.name}" if len(run_slots) > 1 else ""
        progress.begin(job.task, job.run_dir)  # the time left follows its own progress.json
        print(f"{progress.line()} {job.name}: running{where}", flush=True)

    def ended(job: Job, summary: dict, seconds: float) -> None:
        held = summary.get("status") == HELD  # another process runs it: nothing written here
        progress.finish(job.task, None if held else seconds, job.run_dir)
        outcomes.append((job, summary, HELD if held else "ran"))
        if not held:
            try:
                record_cost(job, estimates[job.run_dir], seconds, device, slot_layout)
            except OSError as error:
                print(f"reproduce: {job.name}: could not write its cost.json in {job.run_dir}: "
                      f"{error.strerror or error}", file=sys.stderr, flush=True)
        if held:
            print(f"{progress.line()} {job.name}: {summary.get('error')}", flush=True)
        else:
            print(f"{progress.line()} {job.name}: {summary.get('status')} ({accuracy_text(summary)}) in "
                  f"{clock(seconds)}", flush=True)

    interrupted = run_on_slots(to_run, run_slots, isolation, timeout_s, started, ended,
                               lambda job: f"{progress.line()} {job.name}:", progress_every_s)
    return outcomes, interrupted
