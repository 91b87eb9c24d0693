"""`macformer-reproduce --launcher slurm` (or `local`: submitit's local executor, the same
code path on one machine): the costed plan submitted through submitit as job arrays.

- Runs are packed into array tasks: a run shorter than `--pack-minutes` shares its task
  with other short runs up to that length in all (one queue wait instead of many); a
  longer run has a task of its own.
- Per-task resources come from the plan (slurm_options.py): the time limit from the
  estimated hours (× 1.5, plus 15 minutes), on a CPU no GPU, the calibration's threads
  and the measured peak memory, a task per device of a DDP row; tasks with the same
  limit and needs share an array (an array has one set of resources). Site options
  (partition, QOS, typed GPUs, setup lines, any sbatch option) add to them.
- `--wait` (always with `--launcher local`) watches the jobs (slurm_watch.py), then
  writes the report.
- Each task runs its runs one after the other, each `python -m macformer.train` in its own
  process, logging to <run dir>/reproduce.log. On SLURM's warning signal before a
  preemption or the time limit (USR2, submitit's), the task sends the run SIGTERM
  (training stops at a batch boundary and saves last.ckpt), then requeues itself
  (submitit's checkpointing); the requeued task skips the completed runs and resumes the
  interrupted one from its checkpoint, bit for bit.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from macformer.lifecycle.record import read_summary
from macformer.lifecycle.run_folder import open_append

from .cost import Costed
from .progress import run_progress
from .runner import LOG_NAME
from .slots import threads_per_job
from .slurm_options import slurm_parameters

LIMITS_MIN = (30, 60, 120, 240, 480, 960, 1440, 2880)  # array time limits, minutes


class RunGroup:
    """An array task: runs (their train overrides) one after the other; requeues on SLURM's signal."""

    def __init__(self, runs: list[tuple[str, ...]], run_dirs: list[str], env: dict | None = None):
        self.runs, self.run_dirs, self.env = runs, run_dirs, env or {}
        self._child: subprocess.Popen | None = None

    def __call__(self) -> list[str | None]:
        statuses = []
        for overrides, run_dir in zip(self.runs, self.run_dirs, strict=True):
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            command = [sys.executable, "-m", "macformer.train", *overrides]
            with open_append(Path(run_dir) / LOG_NAME) as log:  # never through a planted link
                log.write(("$ " + " ".join(command) + "\n").encode())
                log.flush()
                # SLURM signals every process of the job: only this task acts on USR2.
                self._child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                               env={**os.environ, **self.env}, preexec_fn=_ignore_usr2)
                self._child.wait()
            statuses.append((read_summary(run_dir) or {}).get("status"))
        return statuses

    def checkpoint(self):
        """On SLURM's (or the local executor's) USR2: stop the running run cleanly, requeue."""
        import submitit

        child = self._child
        if child is not None and child.returncode is None:
            child.send_signal(signal.SIGTERM)
            _reap(child.pid, timeout_s=300)
        return submitit.helpers.DelayedSubmission(RunGroup(self.runs, self.run_dirs, self.env))


def _reap(pid: int, timeout_s: float) -> None:
    """Wait for the run to end (killing it after timeout_s). Not Popen.wait: this runs in a
    signal handler that interrupted Popen.wait, which holds the lock Popen.wait needs."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:  # already reaped
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.2)


def _ignore_usr2() -> None:
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def pack(costed: list[Costed], pack_s: float) -> list[list[Costed]]:
    """Array tasks: each long run alone; short ones (estimate < pack_s) together, up to
    pack_s in all, longest first. Unmeasured runs get a task each."""
    alone = [[c] for c in costed if c.seconds is None or c.seconds >= pack_s]
    short = sorted((c for c in costed if c.seconds is not None and c.seconds < pack_s),
                   key=lambda c: -c.seconds)
    groups: list[list[Costed]] = []
    for c in short:  # first fit: the group with room for it
        for group in groups:
            if sum(g.seconds for g in group) + c.seconds <= pack_s:
                group.append(c)
                break
        else:
            groups.append([c])
    return alone + groups


def time_limit_min(group: list[Costed]) -> int:
    """The array time limit for a task: estimate × 1.5 + 15 min, rounded up to LIMITS_MIN."""
    if any(c.seconds is None for c in group):
        return LIMITS_MIN[-2]
    need = sum(c.seconds for c in group) * 1.5 / 60 + 15
    return next((m for m in LIMITS_MIN if m >= need), math.ceil(need))


def submit(costed: list[Costed], args, device, isolation: str) -> int:
    import submitit

    from .slurm_watch import (
        REJECTED_EXIT,
        quiet_sbatch,
        sbatch_message,
        use_queue_when_no_accounting,
        watch,
    )

    todo = [c for c in costed if c.skip is None and not c.done]
    if not todo:
        print("reproduce: nothing to submit: every run of the plan is done", flush=True)
        return 0
    folder = Path(args.results_dir) / "submitit"
    cluster = "slurm" if args.launcher == "slurm" else "local"
    if cluster == "slurm":
        use_queue_when_no_accounting()
    # A job that times out is requeued up to 3 times (a preemption never counts).
    executor = submitit.AutoExecutor(folder=folder / "%j", cluster=cluster, slurm_max_num_timeout=3)
    needs = {id(c): run_needs(c.job, device, args) for c in todo}
    arrays: dict[tuple[int, int, int], list[list[Costed]]] = {}
    for group in pack(todo, args.pack_minutes * 60):
        devices, cpus = max(needs[id(c)] for c in group)
        arrays.setdefault((time_limit_min(group), devices, cpus), []).append(group)
    jobs = []
    for (limit, devices, cpus), groups in sorted(arrays.items(), reverse=True):
        peak = max((c.peak_mb or 0.0 for g in groups for c in g), default=0.0)
        params = {"timeout_min": limit, "name": f"macformer-{limit}min"}
        if cluster == "slurm":
            params.update(slurm_parameters(args, device.kind == "cuda", cpus, peak or None, limit, devices))
            limit = params["timeout_min"]
        executor.update_parameters(**params)
        # The runs use the threads the plan was measured with (CPU), not every core of the node.
        env = {} if device.kind == "cuda" else {"OMP_NUM_THREADS": str(cpus), "MKL_NUM_THREADS": str(cpus)}
        submitted = len(jobs)
        try:
            with quiet_sbatch(), executor.batch():  # sbatch runs on leaving the batch
                for group in groups:
                    jobs.append((executor.submit(RunGroup([c.job.overrides for c in group],
                                                          [str(c.job.run_dir) for c in group], env)), group))
        except submitit.core.utils.FailedJobError as error:
            del jobs[submitted:]  # this array's, never submitted
            earlier = f" (submitted before it: {', '.join(j.job_id for j, _ in jobs)})" if jobs else ""
            print(f"reproduce: SLURM rejected the job: {sbatch_message(error)}{earlier}", file=sys.stderr,
                  flush=True)
            return REJECTED_EXIT
        print(f"reproduce: array of {len(groups)} task(s), {limit} min each "
              f"({sum(len(g) for g in groups)} runs)", flush=True)
    print(f"reproduce: submitted {len(jobs)} task(s) ({cluster}); submitit logs in {folder}/<job id>/, "
          "each run's log in <run dir>/reproduce.log", flush=True)
    ids = ",".join(dict.fromkeys(j.job_id.split("_")[0] for j, _ in jobs))
    if cluster == "slurm":
        print(f"reproduce: job ids {', '.join(j.job_id for j, _ in jobs)}", flush=True)
        if not args.wait:
            print(f"reproduce: progress: squeue --array --jobs {ids}; each run's step in <run dir>/progress.json; "
                  "when they are done: make report (or this command again: completed runs are skipped)",
                  flush=True)
            return 0
    try:
        watch([(job, [(c.job.name, str(c.job.run_dir)) for c in group]) for job, group in jobs],
              args.progress_every or 60.0, lambda run_dir: (run_progress(run_dir) or (0, None))[1])
    except KeyboardInterrupt:
        print(f"reproduce: stopped waiting (Ctrl-C); the jobs go on (squeue --array --jobs {ids}); "
              "when they are done: make report", flush=True)
        return 130
    return closing(todo, args)


def run_needs(job, device, args) -> tuple[int, int]:
    """(processes, CPUs each) one of the job's runs needs: trainer.devices (DDP: a SLURM task
    per device), and on a CPU the threads its calibration ran with, on a GPU its data
    loader's workers + 1."""
    from macformer.config import compose_run

    cfg = compose_run(list(job.overrides))
    devices = int(cfg.trainer.devices) if str(cfg.trainer.devices).isdigit() else 1
    if device.kind == "cuda":
        return devices, args.threads or int(cfg.data.num_workers) + 1
    return devices, threads_per_job(device, args.jobs if isinstance(args.jobs, int) else 1, args.threads)


def closing(todo: list[Costed], args) -> int:
    """After the jobs ended: the report (unless --no-report; beside the profile's own when the
    sweep left runs undone or was narrowed, as a sweep run here does), the runs that did not
    complete."""
    from macformer.report import ReportError, build_report

    from .report_place import narrowed, placement_line, report_root
    from .sweep import sweeps_of

    results = Path(args.results_dir)
    failed = [c for c in todo if (read_summary(c.job.run_dir) or {}).get("status") != "completed"]
    if not args.no_report:
        profile = todo[0].job.facts["profile"]
        narrowed_by = narrowed(profile, sweeps_of(profile, args.sweep), args)
        reason = (f"{len(failed)} of {len(todo)} submitted runs did not complete" if failed
                  else f"narrowed by {narrowed_by}" if narrowed_by else None)
        root = report_root(results, profile, reason)
        try:
            written = build_report(results / "runs", root, profile=profile).written
            print("reproduce: report: " + ", ".join(str(p) for p in written), flush=True)
            if line := placement_line(results, profile, root, reason):
                print(line, flush=True)
        except (ReportError, OSError) as error:
            print(f"reproduce: report: {error}", flush=True)
    for c in failed:
        print(f"reproduce: {c.job.name} did not complete [{c.job.run_dir}]", flush=True)
    print(f"reproduce: {len(todo) - len(failed)} of {len(todo)} run(s) completed", flush=True)
    return 1 if failed and args.strict else 0
