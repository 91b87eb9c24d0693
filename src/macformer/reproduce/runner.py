"""Run one job in its own process and make sure it leaves a summary.json.

Two ways to start the process:
- `fork`: a copy of this (already warm) driver calls `macformer.train.run(overrides)`;
  saves the ~5 s of importing torch and Lightning per run (CPU profiles).
- `subprocess`: `python -m macformer.train <overrides>`, a fresh interpreter, exactly
  the command a user would type (the paper profile; the only way with CUDA).
Each process gets its slot's environment (CUDA_VISIBLE_DEVICES, thread counts), so that
several runs share the machine, and SIGTERM when the driver dies (held.py). Either way a
crash, a kill or a timeout of one run cannot stop the sweep: when the process ends
without a readable summary, the driver writes a `failed` one with the exit status and
the end of the run's log. A run past its time limit gets SIGTERM (it saves last.ckpt, so
a re-run continues it) and is recorded `failed` with stop_reason `time_limit`. A run
another process holds (its lock) is reported `held` and its folder is left untouched.
Ctrl-C, and only Ctrl-C, stops the sweep: each run gets SIGINT (from the terminal, or
forwarded here), records itself `interrupted` and exits; run_job then raises
SweepInterrupted carrying that summary.
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

from macformer.lifecycle.lock import LOCKED_EXIT, read_holder
from macformer.lifecycle.record import (
    COMPLETED,
    FAILED,
    INTERRUPTED,
    STOPPED,
    new_record,
    read_summary,
    write_summary,
)

from .held import HELD, held_text, live_holder, set_parent_death_signal
from .spool import SpooledLog
from .sweep import Job

LOG_NAME = "reproduce.log"
CTRL_C_EXIT = 130  # a run interrupted by SIGINT exits with 128 + 2
TIME_LIMIT = "time_limit"  # the stop_reason of a run stopped at the driver's time limit
TERM_GRACE_S = 60.0  # after SIGTERM, how long a run may take to save and record itself


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def driver_summary(job: Job, status: str, error: str, start: str | None = None) -> dict:
    """The record of a run the driver did not let train (missing data) or that died
    without writing one."""
    return new_record(job.facts, status=status, error=error, start_time=start or now(), end_time=now(),
                      run_dir=str(job.run_dir), written_by="macformer.reproduce")


def write_record(job: Job, summary: dict) -> None:
    """Write a summary the driver made; a full disk or a read-only folder is one line on
    stderr (the closing summary still counts the run)."""
    try:
        write_summary(job.run_dir, summary)
    except OSError as error:
        print(f"reproduce: {job.name}: could not write its summary.json in {job.run_dir}: "
              f"{error.strerror or error}", file=sys.stderr, flush=True)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `summary` is that run's, recorded `interrupted`."""

    def __init__(self, summary: dict):
        super().__init__("interrupted by Ctrl-C")
        self.summary = summary


class RunHandle:
    """One run's process, started at once (unless another process holds the run); poll
    `alive()`, then `finish()`."""

    def __init__(self, job: Job, isolation: str, timeout_s: float | None, env: dict | None = None):
        self.job, self.env = job, dict(env or {})
        self.log_path = job.run_dir / LOG_NAME
        self.before = read_summary(job.run_dir)
        self.start_time, self.t0 = now(), time.monotonic()
        self.deadline = None if timeout_s is None else self.t0 + timeout_s
        self.timeout_s, self.exit_info, self.kill_at = timeout_s, None, None
        self.group = isolation != "fork"
        self.process = self.output = None
        self.locked = False  # seen holding its folder's lock
        self.holder = live_holder(job.run_dir)  # another process runs it: leave its folder alone
        if self.holder is not None:
            return
        try:
            job.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.exit_info = f"could not create the run folder: {error.strerror or error}"
            return
        driver = os.getpid()
        if self.group:
            command = [sys.executable, "-m", "macformer.train", *job.overrides]
            self.output = SpooledLog(self.log_path, "$ " + " ".join(command) + "\n")
            self.process = subprocess.Popen(
                command, stdout=self.output.fileno, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, **self.env}, preexec_fn=lambda: set_parent_death_signal(driver))
        else:
            self.output = SpooledLog(self.log_path, f"# forked from the driver (pid {driver}): "
                                     f"macformer.train.run({list(job.overrides)})\n")
            context = multiprocessing.get_context("fork")
            self.process = context.Process(target=_child, name=f"macformer-{job.name}", args=(
                list(job.overrides), self.output.fileno, self.env, driver))
            self.process.start()
        self.pid = self.process.pid

    @property
    def started(self) -> bool:
        return self.process is not None

    def exitcode(self) -> int | None:
        if self.process is None:
            return LOCKED_EXIT if self.holder is not None else 1
        return self.process.poll() if self.group else self.process.exitcode

    def alive(self) -> bool:
        """True while it runs. Past the time limit it gets SIGTERM (it saves a checkpoint and
        records itself), then SIGKILL if it has not ended TERM_GRACE_S later."""
        if self.process is None:
            return False
        self._follow()
        if self.exitcode() is not None:
            return False
        if self.kill_at is None and self.deadline is not None and time.monotonic() > self.deadline:
            self.exit_info = f"stopped at the time limit of {self.timeout_s:g} s"
            self.kill_at = time.monotonic() + TERM_GRACE_S
            _signal(self.pid, signal.SIGTERM, self.group)
        elif self.kill_at is not None and time.monotonic() > self.kill_at:
            _signal(self.pid, signal.SIGKILL, self.group)
            self.wait(None)
            return False
        return True

    def wait(self, seconds: float | None) -> None:
        if self.process is None:
            return
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
        if self.process is None:
            return
        if not self.group:  # the terminal's SIGINT reached the forked run too
            self.wait(10)
        if self.exitcode() is None:
            _signal(self.pid, signal.SIGINT, self.group)
            self.wait(60)
        if self.exitcode() is None:
            _signal(self.pid, signal.SIGKILL, self.group)
            self.wait(None)

    def _follow(self) -> None:
        """Once the run holds its folder's lock, its output goes to its log."""
        if not self.locked and (read_holder(self.job.run_dir) or {}).get("pid") == self.pid:
            self.locked = True
            self.output.own()
        self.output.copy()

    def finish(self, interrupted: bool = False) -> tuple[dict, float]:
        """The run's summary (written here when it left none) and the seconds it took."""
        seconds = time.monotonic() - self.t0
        code = self.exitcode()
        if self.holder is not None or (code == LOCKED_EXIT and not self.locked):
            return self._held(), seconds  # nothing of it is written: the folder is another's
        if self.exit_info is None and code not in (0, None, CTRL_C_EXIT):
            self.exit_info = _exit_text(code)
        summary = read_summary(self.job.run_dir)
        fresh = summary is not None and summary != self.before and summary.get("status") in (
            COMPLETED, STOPPED, FAILED, INTERRUPTED)
        skipped = code == 0 and not (fresh or self.locked) and (summary or {}).get("status") == COMPLETED
        tail = "(no log)"
        if self.output is not None:
            if not skipped:  # it ran here (perhaps too briefly to be seen holding the lock)
                self.output.own()
            tail = self.output.tail()
            self.output.close()
        if skipped:  # another process completed it meanwhile; this one found it done
            return summary, seconds
        if self.kill_at is not None and not (fresh and summary["status"] == COMPLETED):
            summary = self._over_time_limit(summary if fresh else None)
        elif interrupted and not (fresh and summary["status"] == INTERRUPTED):
            summary = driver_summary(self.job, INTERRUPTED, "interrupted by Ctrl-C (SIGINT) before the "
                                     "run recorded it; re-run the same command to resume", self.start_time)
        elif not fresh:
            reason = self.exit_info or "the run ended without writing summary.json"
            if self.process is not None:  # what the run said before it ended
                reason += f"; last lines of {self.log_path}:\n{tail}"
            summary = driver_summary(self.job, FAILED, reason, self.start_time)
        elif self.exit_info is not None and summary["status"] != COMPLETED:
            summary["error"] = f"{self.exit_info} ({summary.get('error')})"
        else:
            return summary, seconds  # the run's own record, as it wrote it
        write_record(self.job, summary)
        return summary, seconds

    def _over_time_limit(self, summary: dict | None) -> dict:
        """The run's record (or a new one) made `failed` with stop_reason time_limit."""
        record = summary or driver_summary(self.job, FAILED, "", self.start_time)
        steps = record.get("steps") or 0
        record.update(status=FAILED, stop_reason=TIME_LIMIT, failed_step=steps, end_time=now(),
                      error=f"{self.exit_info} (--run-timeout, or the profile's run_timeout_s) at step "
                            f"{steps} of {record.get('max_steps')}; re-run the same command to continue "
                            f"it from its last checkpoint")
        return record

    def _held(self) -> dict:
        """The in-memory record of a run another process holds (never written)."""
        holder = self.holder or read_holder(self.job.run_dir)
        return driver_summary(self.job, HELD, held_text(holder), self.start_time)


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
    return handle.finish()


def _child(overrides: list[str], fd: int, env: dict, driver: int) -> None:
    """In the forked process: SIGTERM when the driver dies, the slot's environment, output
    to `fd` (the spool), train, exit without running the driver's atexit handlers. A lost
    lock race exits LOCKED_EXIT, as `macformer-train` does."""
    set_parent_death_signal(driver)
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
        from macformer.lifecycle.lock import RunLocked
        from macformer.train import run

        try:
            run(overrides)
        except RunLocked as error:
            print(f"error: {error}", file=sys.stderr)
            code = LOCKED_EXIT
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
