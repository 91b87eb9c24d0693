"""Run one job in its own process and make sure it leaves a summary.json.

Two ways to start the process:
- `fork`: a copy of this (already warm) driver calls `macformer.train.run(overrides)`;
  saves the ~5 s of importing torch and Lightning per run (CPU profiles).
- `subprocess`: `python -m macformer.train <overrides>`, a fresh interpreter, exactly
  the command a user would type (the paper profile; the only way with CUDA).
Each process gets its slot's environment (CUDA_VISIBLE_DEVICES, thread counts), so that
several runs share the machine. Either way a crash, a kill or a timeout of one run cannot
stop the sweep: when the process ends without a readable summary, the driver writes a
`failed` one with the exit status and the end of the run's log. Ctrl-C stops the sweep:
each run gets SIGINT (from the terminal, or forwarded here), records itself `interrupted`
and exits; run_job then raises SweepInterrupted carrying that summary.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from macformer.lifecycle.record import (
    COMPLETED,
    FAILED,
    INTERRUPTED,
    STOPPED,
    new_record,
    read_summary,
    write_summary,
)

from .sweep import Job

LOG_NAME = "reproduce.log"
CTRL_C_EXIT = 130  # a run interrupted by SIGINT exits with 128 + 2


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def driver_summary(job: Job, status: str, error: str, start: str | None = None) -> dict:
    """The record of a run the driver did not let train (missing data) or that died
    without writing one."""
    return new_record(job.facts, status=status, error=error, start_time=start or now(), end_time=now(),
                      run_dir=str(job.run_dir), written_by="macformer.reproduce")


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `summary` is that run's, recorded `interrupted`."""

    def __init__(self, summary: dict):
        super().__init__("interrupted by Ctrl-C")
        self.summary = summary


class RunHandle:
    """One run's process, started at once; poll `alive()`, then `finish()`."""

    def __init__(self, job: Job, isolation: str, timeout_s: float | None, env: dict | None = None):
        self.job, self.env = job, dict(env or {})
        job.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = job.run_dir / LOG_NAME
        self.before = read_summary(job.run_dir)
        self.start_time, self.t0 = now(), time.monotonic()
        self.deadline = None if timeout_s is None else self.t0 + timeout_s
        self.timeout_s, self.exit_info = timeout_s, None
        self.group = isolation != "fork"
        if self.group:
            command = [sys.executable, "-m", "macformer.train", *job.overrides]
            with open(self.log_path, "a") as log:
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True, env={**os.environ, **self.env})
            self.pid = self.process.pid
        else:
            context = multiprocessing.get_context("fork")
            self.process = context.Process(target=_child, name=f"macformer-{job.name}",
                                           args=(list(job.overrides), str(self.log_path), self.env))
            self.process.start()
            self.pid = self.process.pid

    def exitcode(self) -> int | None:
        return self.process.poll() if self.group else self.process.exitcode

    def alive(self) -> bool:
        """True while it runs; past the time limit it is stopped (SIGINT, then SIGKILL)."""
        if self.exitcode() is not None:
            return False
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.exit_info = f"stopped after the {self.timeout_s:.0f} s limit of a run"
            self._end(already_signalled=False, grace_s=30)
            return False
        return True

    def wait(self, seconds: float) -> None:
        if self.group:
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                pass
        else:
            self.process.join(seconds)

    def interrupt(self) -> None:
        """After Ctrl-C: let the run record itself `interrupted` (SIGINT, forwarded unless the
        terminal sent it already), then kill it if it does not end within a minute."""
        self._end(already_signalled=not self.group, grace_s=60)

    def _end(self, already_signalled: bool, grace_s: float) -> None:
        if already_signalled:
            self.wait(10)
        if self.exitcode() is None:
            _signal(self.pid, signal.SIGINT, self.group)
            self.wait(grace_s)
        if self.exitcode() is None:
            _signal(self.pid, signal.SIGKILL, self.group)
            self.wait(None)

    def finish(self, interrupted: bool = False) -> tuple[dict, float]:
        """The run's summary (written here when it left none) and the seconds it took."""
        seconds = time.monotonic() - self.t0
        code = self.exitcode()
        if self.exit_info is None and code not in (0, None, CTRL_C_EXIT):
            self.exit_info = _exit_text(code)
        summary = read_summary(self.job.run_dir)
        fresh = summary is not None and summary != self.before and summary.get("status") in (
            COMPLETED, STOPPED, FAILED, INTERRUPTED)
        if interrupted and not (fresh and summary["status"] == INTERRUPTED):
            summary = driver_summary(self.job, INTERRUPTED, "interrupted by Ctrl-C (SIGINT) before the "
                                     "run recorded it; re-run the same command to resume", self.start_time)
            write_summary(self.job.run_dir, summary)
        elif not fresh:  # killed, crashed before training started, or a bug: say so
            reason = self.exit_info or "the run ended without writing summary.json"
            summary = driver_summary(self.job, FAILED, f"{reason}; last lines of {self.log_path}:\n"
                                     f"{_tail(self.log_path)}", self.start_time)
            write_summary(self.job.run_dir, summary)
        elif self.exit_info is not None and summary["status"] != COMPLETED:
            summary["error"] = f"{self.exit_info} ({summary.get('error')})"  # e.g. the time limit
            write_summary(self.job.run_dir, summary)
        return summary, seconds


def run_job(job: Job, isolation: str, timeout_s: float | None,
            tick: Callable[[], None] = lambda: None, env: dict | None = None) -> tuple[dict, float]:
    """Run `job` to its end; return its summary (from the run, or written here) and the
    seconds taken. `tick` is called every second while the run trains (e.g. a RunWatch)."""
    handle = RunHandle(job, isolation, timeout_s, env)
    try:
        while handle.alive():
            handle.wait(1.0)
            tick()
    except KeyboardInterrupt:
        handle.interrupt()
        raise SweepInterrupted(handle.finish(interrupted=True)[0]) from None
    if handle.exitcode() == CTRL_C_EXIT:  # the run was stopped with SIGINT: so is the sweep
        raise SweepInterrupted(handle.finish(interrupted=True)[0])
    return handle.finish()


def _child(overrides: list[str], log_path: str, env: dict) -> None:
    """In the forked process: the slot's environment, output to the run's log, train, exit
    without running the driver's atexit handlers."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(env)
    code = 0
    try:
        if "OMP_NUM_THREADS" in env:  # torch read it when the driver imported it: set it anew
            import torch

            torch.set_num_threads(int(env["OMP_NUM_THREADS"]))
        from macformer.train import run

        run(overrides)
    except SystemExit as error:  # an interrupted run: 130 (SIGINT) or 143 (SIGTERM)
        print(error, file=sys.stderr)
        code = error.code if isinstance(error.code, int) else 1
    except BaseException:  # noqa: B036  (the summary says what; the log keeps the trace)
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _signal(pid: int, signum: int, group: bool) -> None:
    try:
        (os.killpg if group else os.kill)(pid, signum)
    except ProcessLookupError:
        pass


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"the run was killed by signal {signal.Signals(-code).name}"
    return f"the run exited with status {code}"


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"
