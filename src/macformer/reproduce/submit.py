"""`macformer-reproduce --launcher slurm` (or `local`: submitit's local executor, the same
code path on one machine): the costed plan submitted through submitit as job arrays.

- Runs are packed into array tasks: a run shorter than `--pack-minutes` shares its task
  with other short runs up to that length in all (one queue wait instead of many); a
  longer run has a task of its own.
- Per-task resources come from the plan: the time limit from the estimated hours (× 1.5,
  plus 15 minutes), the memory from the measured peak; tasks with similar limits share an
  array (an array has one set of resources).
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

from .cost import Costed
from .runner import LOG_NAME

LIMITS_MIN = (30, 60, 120, 240, 480, 960, 1440, 2880)  # array time limits, minutes


class RunGroup:
    """An array task: runs (their train overrides) one after the other; requeues on SLURM's signal."""

    def __init__(self, runs: list[tuple[str, ...]], run_dirs: list[str]):
        self.runs, self.run_dirs = runs, run_dirs
        self._child: subprocess.Popen | None = None

    def __call__(self) -> list[str | None]:
        statuses = []
        for overrides, run_dir in zip(self.runs, self.run_dirs, strict=True):
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            command = [sys.executable, "-m", "macformer.train", *overrides]
            with open(Path(run_dir) / LOG_NAME, "a") as log:
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                # SLURM signals every process of the job: only this task acts on USR2.
                self._child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                               preexec_fn=_ignore_usr2)
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
        return submitit.helpers.DelayedSubmission(RunGroup(self.runs, self.run_dirs))


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

    from macformer.report import ReportError, build_report

    todo = [c for c in costed if c.skip is None and not c.done]
    if not todo:
        print("reproduce: nothing to submit: every run of the plan is done", flush=True)
        return 0
    folder = Path(args.results_dir) / "submitit"
    cluster = "slurm" if args.launcher == "slurm" else "local"
    # A job that times out is requeued up to 3 times (a preemption never counts).
    executor = submitit.AutoExecutor(folder=folder / "%j", cluster=cluster, slurm_max_num_timeout=3)
    arrays: dict[int, list[list[Costed]]] = {}
    for group in pack(todo, args.pack_minutes * 60):
        arrays.setdefault(time_limit_min(group), []).append(group)
    jobs = []
    for limit, groups in sorted(arrays.items(), reverse=True):
        peak = max((c.peak_mb or 0.0 for g in groups for c in g), default=0.0)
        params = {"timeout_min": limit, "name": f"macformer-{limit}min"}
        if cluster == "slurm":
            params.update(slurm_partition=args.slurm_partition, slurm_account=args.slurm_account,
                          gpus_per_node=1, cpus_per_task=8, mem_gb=max(16, math.ceil(peak * 1.5 / 1024) + 8),
                          slurm_signal_delay_s=120, slurm_array_parallelism=256)
            params = {k: v for k, v in params.items() if v is not None}
        executor.update_parameters(**params)
        with executor.batch():
            for group in groups:
                jobs.append((executor.submit(RunGroup([c.job.overrides for c in group],
                                                      [str(c.job.run_dir) for c in group])), group))
        print(f"reproduce: array of {len(groups)} task(s), {limit} min each "
              f"({sum(len(g) for g in groups)} runs)", flush=True)
    print(f"reproduce: submitted {len(jobs)} task(s) ({cluster}); submitit logs in {folder}/<job id>/, "
          "each run's log in <run dir>/reproduce.log", flush=True)
    if cluster == "slurm":
        print(f"reproduce: job ids {', '.join(j.job_id for j, _ in jobs)}; when they are done: "
              f"make report (or run this command again: completed runs are skipped)", flush=True)
        return 0
    for job, group in jobs:  # local: wait, then the report
        while not job.done():
            time.sleep(1.0)
        names = ", ".join(c.job.name for c in group)
        print(f"reproduce: task {job.job_id} ({names}): {job.state}", flush=True)
    results = Path(args.results_dir)
    try:
        written = build_report(results / "runs", results, profile=todo[0].job.facts["profile"]).written
        print("reproduce: report: " + ", ".join(str(p) for p in written), flush=True)
    except ReportError as error:
        print(f"reproduce: report: {error}", flush=True)
    failed = [c for c in todo if (read_summary(c.job.run_dir) or {}).get("status") != "completed"]
    for c in failed:
        print(f"reproduce: {c.job.name} did not complete [{c.job.run_dir}]", flush=True)
    return 1 if failed and args.strict else 0
