"""`macformer-reproduce --profile auto` (or `python -m macformer.reproduce`; what `make
reproduce-lra` runs after install and data): the sweep of sweep.py, then the report.

Resumable: a run whose summary says `completed` (same settings) is skipped, an
interrupted one continues from its last checkpoint (training does that), so
re-running the same command picks up where it stopped. A failed run is reported at
the end and never stops the others. Tasks whose data is absent and cannot be
generated are recorded as `missing` with the command that fetches them.
"""

from __future__ import annotations

import argparse
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
    write_summary,
)

from .progress import Progress, RunWatch, clock
from .runner import driver_summary, run_job
from .sweep import SWEEPS, Job, choose_profile, plan


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="macformer-reproduce",
        description="Run the LRA sweep of a profile (resuming), then write the report.")
    parser.add_argument("--profile", default="auto", choices=("auto", *SWEEPS),
                        help="auto (default): paper when a CUDA GPU is visible, else cpu")
    parser.add_argument("--tasks", nargs="+", default=None, help="only these tasks")
    parser.add_argument("--rows", nargs="+", default=None,
                        help="only these rows, e.g. softmax rmfa-exp rmfa-exp-noppsbn")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="seeds (default: the profile's)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results-dir", default="results",
                        help="runs go to RESULTS/runs/<profile>/..., tables and plots to RESULTS")
    parser.add_argument("--isolation", choices=("fork", "subprocess"), default=None,
                        help="how each run is started (default: the profile's)")
    parser.add_argument("--run-timeout", type=float, default=None,
                        help="seconds before a run is stopped and reported failed")
    parser.add_argument("--progress-every", type=float, default=60.0, metavar="SECONDS",
                        help="show a training run's step and ETA this often (0: never; default: 60)")
    parser.add_argument("--dry-run", action="store_true", help="list the jobs and exit")
    parser.add_argument("--no-report", action="store_true", help="skip the report at the end")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a run failed")
    parser.add_argument("--print-profile", action="store_true",
                        help="print the profile `auto` resolves to and exit (used by make)")
    parser.add_argument("--print-data-vars", action="store_true",
                        help="print the `make data` variables that generate ListOps and "
                             "Pathfinder at the resolved profile's sizes, and exit (used by make)")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every run, e.g. logger=wandb trainer=gpu")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    profile, why = choose_profile(args.profile)
    if args.print_profile:
        print(profile)
        return 0
    if args.print_data_vars:
        print(data_vars(profile))
        return 0
    sweep = SWEEPS[profile]
    sweep = replace(
        sweep,
        tasks=tuple(t for t in sweep.tasks if args.tasks is None or t in args.tasks),
        rows=tuple(r for r in sweep.rows if args.rows is None or r.name in args.rows),
        seeds=tuple(args.seeds) if args.seeds else sweep.seeds,
        isolation=args.isolation or sweep.isolation,
        run_timeout_s=args.run_timeout if args.run_timeout is not None else sweep.run_timeout_s)
    started = time.monotonic()
    print(f"reproduce: profile {profile}: {why}.", flush=True)
    print(f"reproduce: {sweep.why}; tasks {', '.join(sweep.tasks)}; rows "
          f"{', '.join(r.name for r in sweep.rows)}; seeds {', '.join(map(str, sweep.seeds))}.",
          flush=True)

    # run.sweep_id groups the runs on W&B (logger=wandb); it does not change a run's settings.
    extra = (f"paths.data_dir={args.data_dir}", f"paths.results_dir={args.results_dir}",
             f"run.sweep_id=reproduce-{profile}", *args.overrides)
    jobs = plan(sweep, extra)
    missing = missing_tasks(args.data_dir, jobs)
    if args.dry_run:
        for job in jobs:
            state = "missing data" if job.task in missing else "run"
            print(f"{job.name}: {state}: python -m macformer.train {' '.join(job.overrides)}")
        return 0

    outcomes, interrupted = sweep_jobs(jobs, missing, sweep.isolation, sweep.run_timeout_s,
                                       args.progress_every or None)
    report_written = []
    if not args.no_report:
        from macformer.report import ReportError, build_report

        results = Path(args.results_dir)
        try:  # this profile's folder only: results/<profile>/ (other profiles' stay as they are)
            report_written = build_report(results / "runs", results, profile=profile).written
        except ReportError as error:
            print(f"reproduce: report: {error}", flush=True)
    failures = print_closing(outcomes, missing, time.monotonic() - started, report_written,
                             interrupted)
    if interrupted:
        print(f"reproduce: interrupted by Ctrl-C after {len(outcomes)} of {len(jobs)} runs; run the "
              "same command to resume (completed runs are skipped, the interrupted one continues "
              "from its last checkpoint)", flush=True)
        return 130
    return 1 if (failures and args.strict) else 0


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
    return out + (f' DATA_ARGS="{" ".join(args)}"' if args else "")


def missing_tasks(data_dir: str, jobs: list[Job]) -> dict[str, str]:
    """task → how to fetch it, for the tasks of `jobs` that are absent and not generable
    (ListOps and Pathfinder are generated by the runs themselves)."""
    try:
        from macformer.data.status import data_status
    except ImportError:  # older data layer: let the runs find out
        return {}
    status = {task: (ready, detail) for task, ready, detail in data_status(data_dir)}
    generable = {j.task for j in jobs if j.generable}
    out = {}
    for task in dict.fromkeys(j.task for j in jobs):
        ready, detail = status.get(task, (True, ""))
        if not ready and task not in generable:
            out[task] = detail
    return out


def sweep_jobs(jobs: list[Job], missing: dict[str, str], isolation: str, timeout_s: float | None,
               progress_every_s: float | None = None) -> tuple[list[tuple[Job, dict, str]], bool]:
    """Run every job in order, showing a training run's step and ETA every `progress_every_s`
    seconds; return (job, summary, what happened) for each, and whether Ctrl-C stopped the
    sweep (the report is still written)."""
    outcomes = []
    print(f"reproduce: {len(jobs)} runs; runs and logs under "
          f"{jobs[0].run_dir.parents[3] if jobs else '-'}", flush=True)
    for task, detail in missing.items():
        print(f"reproduce: {task}: data missing, its runs are recorded as missing: {detail}",
              flush=True)
    # Missing data first: those runs cost nothing, and the estimate then counts only real runs.
    to_run = []
    for job in jobs:
        previous = read_summary(job.run_dir)
        if job.task in missing and not (previous and previous.get("status") == COMPLETED):
            summary = driver_summary(job, MISSING, missing[job.task])
            write_summary(job.run_dir, summary)
            outcomes.append((job, summary, MISSING))
        else:
            to_run.append(job)
    # The counter counts the runs to train: not those whose data is missing or that completed before.
    progress = Progress([j.task for j in to_run if earlier_run(j.run_dir, j.config_hash)[0] != DONE])
    try:
        for job in to_run:
            held, previous, earlier_hash = earlier_run(job.run_dir, job.config_hash)
            if held == DONE:
                outcomes.append((job, previous, "done before"))
                print(f"reproduce: {job.name}: completed before "
                      f"({_accuracy(previous)}), skipped", flush=True)
                continue
            if held == OTHER_SETTINGS:
                # The profile or code changed since: that result is of other settings.
                print(f"reproduce: {job.name}: its earlier run used other settings "
                      f"(config_hash {earlier_hash}, now {job.config_hash}); "
                      "starting it afresh", flush=True)
                job = replace(job, overrides=(*job.overrides, "run.force=true"))
            print(f"{progress.line()} {job.name}: running", flush=True)
            watch = RunWatch(job.run_dir, lambda job=job: f"{progress.line()} {job.name}:", progress_every_s)
            summary, seconds = run_job(job, isolation, timeout_s, watch)
            progress.finish(job.task, seconds)
            outcomes.append((job, summary, "ran"))
            print(f"{progress.line()} {job.name}: {summary.get('status')} "
                  f"({_accuracy(summary)}) in {clock(seconds)}", flush=True)
    except KeyboardInterrupt as stop:
        summary = getattr(stop, "summary", None)  # SweepInterrupted: the run, recorded interrupted
        if summary is not None:
            outcomes.append((job, summary, "ran"))
            print(f"\n{job.name}: {summary.get('status')}: {summary.get('error')}", flush=True)
        return outcomes, True
    return outcomes, False


def _accuracy(summary: dict) -> str:
    acc = summary.get("test_accuracy")
    if acc is not None:
        return f"test accuracy {100 * acc:.2f}%"
    from macformer.report.tables import error_line

    return error_line(summary.get("error"), default="no accuracy")


def print_closing(outcomes, missing: dict[str, str], seconds: float, written,
                  interrupted: bool = False) -> int:
    counts: dict[str, int] = {}
    for _, summary, _ in outcomes:
        counts[summary.get("status")] = counts.get(summary.get("status"), 0) + 1
    ended = "stopped by Ctrl-C after" if interrupted else "finished in"
    print(f"\nreproduce: {ended} {clock(seconds)}: "
          + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no runs done"), flush=True)
    failed = [(job, s) for job, s, _ in outcomes
              if s.get("status") in ("failed", "interrupted", "stopped")]
    if failed:
        from macformer.report.tables import error_line

        print(f"reproduce: {len(failed)} run(s) did not complete"
              + (":" if interrupted else " (the others ran on):"))
        for job, s in failed:
            print(f"  {job.name}: {error_line(s.get('error'))}  [{job.run_dir}]")
    for task, detail in missing.items():
        print(f"reproduce: {task} missing: {detail}")
    if written:
        print("reproduce: report: " + ", ".join(str(p) for p in written))
    return len(failed)


if __name__ == "__main__":
    sys.exit(main())
