"""`macformer-reproduce --profile auto` (or `python -m macformer.reproduce`; what `make
reproduce-lra` runs after install and data): plan the sweep, measure what it will cost on
this device (calibration.py, cost.py), run it on the device's slots (scheduler.py), longest
runs first, then the report with the estimate beside the time it took.

Resumable: a run whose summary says `completed` (same settings) is skipped, an
interrupted one continues from its last checkpoint (training does that), so
re-running the same command picks up where it stopped. A failed run is reported at
the end and never stops the others. Tasks whose data is absent and cannot be
generated are recorded as `missing` with the command that fetches them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from macformer.lifecycle.record import (
    COMPLETED,
    DONE,
    MISSING,
    OTHER_SETTINGS,
    earlier_run,
    read_summary,
)

from .calibration import Cache, calibrate
from .cli import parse
from .closing import accuracy_text, print_closing
from .cost import actual_table, cost, plan_table, record_cost, wall_seconds
from .preflight import Refused, allow_replacing, check_device, check_selection
from .progress import Progress, clock
from .report_place import narrowed, partial_reason, write_report
from .runner import driver_summary, write_record
from .scheduler import run_on_slots
from .slots import detect, layout, slots
from .sweep import PROFILES, Job, PlanError, choose_profile, plan_groups, sweeps_of


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)  # a bad value of an option: one line, exit 2
    try:  # the rest of what the command asks for, checked before anything is printed or run
        profile, why = choose_profile(args.profile)
        if args.print_profile:
            print(profile)
            return 0
        if args.print_data_vars:
            print(data_vars(profile))
            return 0
        sweeps = sweeps_of(profile, args.sweep or PROFILES[profile].groups)
        check_selection(sweeps, args.tasks, args.rows)
        check_device(args)
    except (Refused, ValueError) as error:
        return refuse(error)
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
        return refuse(error)
    for line in replacing:
        print(line, flush=True)
    missing = missing_tasks(args.data_dir, jobs)
    if args.dry_run:
        for job in jobs:
            state = "missing data" if job.task in missing else "run"
            print(f"{job.name}: {state}: python -m macformer.train {' '.join(job.overrides)}")
        print(f"reproduce: {len(jobs)} runs planned")
        return 0

    device = detect(args.gpus, use_gpu=args.launcher is None or args.launcher == "slurm")
    if device.kind == "cuda":
        isolation = "subprocess"  # a forked driver cannot hand a run its own GPU
    elif not (args.launcher or args.calibrated_on or args.threads):  # runs here: the cores free now
        from .concurrency import free_cores

        free, load = free_cores(device.cores)
        print(f"reproduce: {free} of {device.cores} cores free (1-minute load average {load:.2f}): "
              f"calibration and runs use {free} (--threads sets it)", flush=True)
        device = replace(device, cores=free)
    present = [j for j in jobs if j.task not in missing]
    # A plan costs every task, those whose data is missing too (on random inputs of their
    # shape); a sweep measures only what it will run.
    planned = jobs if args.plan else present
    try:
        per_slot, slowdown = measure_concurrency(args, device, isolation, present)
    except KeyboardInterrupt:
        print("reproduce: interrupted by Ctrl-C while measuring runs side by side; nothing of it "
              "is cached", flush=True)
        return 130
    run_slots = slots(device, per_slot, args.threads)
    slot_layout = layout(device, per_slot, args.threads)
    # A CPU's runs are measured as they will run, side by side; a GPU's alone (what fits
    # its memory), then slowed by the measured cost of sharing it.
    calibration_slots = slots(device, 1) if device.kind == "cuda" else run_slots
    cache = Cache(Path(args.results_dir), device.slug, layout(device, 1) if device.kind == "cuda"
                  else slot_layout)
    if args.calibrated_on:  # measured on the cluster's GPU before, one run per GPU (an array task's)
        device = replace(device, kind="cuda", name=args.calibrated_on, units=("0",))
        cache, per_slot = Cache(Path(args.results_dir), device.slug, "1 per GPU"), 1
    elif args.calibration_steps > 0:
        try:
            calibrate([j for j in planned if earlier_run(j.run_dir, j.config_hash)[0] != "done"], cache,
                      calibration_slots, isolation, args.calibration_steps, generate=not args.plan)
        except KeyboardInterrupt:
            print("reproduce: calibration interrupted by Ctrl-C; shapes measured so far are cached, "
                  "the others are measured on the next run", flush=True)
            return 130
    costed = cost(jobs, cache, device.name, slowdown, missing)  # missing data: named, kept apart
    unit = "GPU" if device.kind == "cuda" else "CPU"
    print(f"reproduce: the plan on {device.name} ({slot_layout}):", flush=True)
    print(plan_table(costed, len(run_slots), per_slot if device.kind == "cuda" else 1, unit), flush=True)
    if unplanned := [t for t in dict.fromkeys(t for s in sweeps for t in s.tasks) if t not in
                     {j.task for j in jobs}]:  # every task of the sweep is named, planned or not
        why = "not in --tasks" if args.tasks else "no row of --rows"
        print(f"reproduce: left out of the plan ({why}): {', '.join(unplanned)}", flush=True)
    if args.plan:
        return 0
    costed = [c for c in costed if c.missing is None]  # missing data: recorded, not run
    if args.launcher:
        from .submit import submit

        return submit(costed, args, device, isolation)

    runnable = [c for c in costed if c.skip is None]
    estimates = {c.job.run_dir: c.seconds for c in runnable}
    known = [s for s in estimates.values() if s is not None]
    wall_estimate = wall_seconds(known, len(run_slots)) if len(known) == len(runnable) else None
    sweep_start = time.monotonic()
    outcomes, interrupted = sweep_jobs([j for j in jobs if j.task in missing], runnable, missing,
                                       run_slots, isolation, timeout_s, args.progress_every or None,
                                       device.name, slot_layout)
    sweep_wall = time.monotonic() - sweep_start
    table = actual_table([c.job for c in runnable], wall_estimate, sweep_wall)
    print("\nreproduce: estimated and actual hours:\n" + table, flush=True)
    skipped = [c for c in costed if c.skip]
    report_written = [] if args.no_report else write_report(
        Path(args.results_dir), profile, partial_reason(narrowed(profile, sweeps, args), outcomes, interrupted,
                                                        skipped), table, f"{device.name}, {slot_layout}")
    failures = print_closing(outcomes, missing, time.monotonic() - started, report_written,
                             interrupted, skipped)
    if interrupted:
        print(f"reproduce: interrupted by Ctrl-C after {len(outcomes)} of {len(jobs)} runs; run the "
              "same command to resume (completed runs are skipped, the interrupted one continues "
              "from its last checkpoint)", flush=True)
        return 130
    return 1 if (failures and args.strict) else 0


def measure_concurrency(args, device, isolation: str, jobs: list[Job]) -> tuple[int, float]:
    """(runs side by side per GPU or on the CPU, how much longer a GPU run then takes)."""
    from .concurrency import choose_jobs, slowdown_at

    asked = args.jobs_per_gpu if device.kind == "cuda" else args.jobs
    if args.launcher or args.calibrated_on or args.calibration_steps == 0:
        return (1 if asked == "auto" else asked), 1.0
    if asked == "auto":
        chosen, slowdown = choose_jobs(jobs, device, isolation, args.calibration_steps, args.results_dir)
    else:
        chosen, slowdown = asked, (slowdown_at(jobs, device, isolation, args.calibration_steps,
                                               args.results_dir, asked) if device.kind == "cuda" else 1.0)
    return chosen, slowdown if device.kind == "cuda" else 1.0


def refuse(error: Exception) -> int:
    """A command that cannot run as given: one line on stderr, exit 2 (as argparse's errors)."""
    print(f"macformer-reproduce: error: {error}", file=sys.stderr, flush=True)
    return 2


def data_vars(profile: str) -> str:
    """`make data` variables for the sizes the profile generates ListOps / Pathfinder at."""
    from macformer.config import compose_run

    gen = compose_run([f"profile={profile}"]).generate
    # Reduced generated sets the profile trains on instead of LRA's (cpu).
    reduced = [d for d in (compose_run([f"profile={profile}", f"task={t}"]).data.dataset
                           for t in ("listops", "pathfinder")) if d != "lra"]
    out = (f"LISTOPS_TRAIN={gen.listops.n_train} LISTOPS_VAL={gen.listops.n_val} "
           f"LISTOPS_TEST={gen.listops.n_test} PATHFINDER_COUNT={gen.pathfinder.count}")
    args = (["--offline"] if profile == "smoke" else []) + (["--datasets", *reduced] if reduced else [])
    # smoke is a minute-long check: generate only, never download.
    # PROFILE_DATA_ARGS: the user's DATA_ARGS add to these (make data passes both).
    return out + (f' PROFILE_DATA_ARGS="{" ".join(args)}"' if args else "")


def missing_tasks(data_dir: str, jobs: list[Job]) -> dict[str, str]:
    """task → how to fetch it, for the tasks of `jobs` that are absent and not generable
    (ListOps and Pathfinder are generated by the runs themselves)."""
    from macformer.data.status import data_status

    status = {task: (ready, detail) for task, ready, detail in data_status(data_dir)}
    generable = {j.task for j in jobs if j.generable}
    out = {}
    for task in dict.fromkeys(j.task for j in jobs):
        ready, detail = status.get(task, (True, ""))
        if not ready and task not in generable:
            out[task] = detail
    return out


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


if __name__ == "__main__":
    sys.exit(main())
