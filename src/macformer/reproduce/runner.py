"""Run one job in its own process and make sure it leaves a summary.json.

Two ways to start the process:
- `fork`: a copy of this (already warm) driver calls `macformer.train.run(overrides)`;
  saves the ~5 s of importing torch and Lightning per run (CPU profiles).
- `subprocess`: `python -m macformer.train <overrides>`, a fresh interpreter, exactly
  the command a user would type (the paper profile; safe with CUDA).
Either way a crash, a kill or a timeout of one run cannot stop the sweep: when the
process ends without a readable summary, the driver writes a `failed` one with the
exit status and the end of the run's log. Ctrl-C stops the sweep: the run gets SIGINT
(from the terminal, or forwarded here), records itself `interrupted` and exits; then
run_job raises SweepInterrupted carrying that summary.
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


def run_job(job: Job, isolation: str, timeout_s: float | None,
            tick: Callable[[], None] = lambda: None) -> tuple[dict, float]:
    """Run `job`; return its summary (from the run, or written here) and the seconds taken.
    `tick` is called every few seconds while the run trains (e.g. a RunWatch)."""
    job.run_dir.mkdir(parents=True, exist_ok=True)
    log_path = job.run_dir / LOG_NAME
    before = read_summary(job.run_dir)
    start, t0 = now(), time.monotonic()
    runner = _run_forked if isolation == "fork" else _run_subprocess
    try:
        exit_info = runner(job, log_path, timeout_s, tick)
    except KeyboardInterrupt:
        summary = read_summary(job.run_dir)
        if summary is None or summary == before or summary.get("status") != INTERRUPTED:
            summary = driver_summary(job, INTERRUPTED, "interrupted by Ctrl-C (SIGINT) before the run "
                                     "recorded it; re-run the same command to resume", start)
            write_summary(job.run_dir, summary)
        raise SweepInterrupted(summary) from None
    seconds = time.monotonic() - t0
    summary = read_summary(job.run_dir)
    fresh = summary is not None and summary != before and summary.get("status") in (
        COMPLETED, STOPPED, FAILED, INTERRUPTED)
    if not fresh:  # killed, crashed before training started, or a bug: say so
        reason = exit_info or "the run ended without writing summary.json"
        summary = driver_summary(job, FAILED, f"{reason}; last lines of {log_path}:\n"
                                 f"{_tail(log_path)}", start)
        write_summary(job.run_dir, summary)
    elif exit_info is not None and summary["status"] != COMPLETED:
        summary["error"] = f"{exit_info} ({summary.get('error')})"  # e.g. the time limit
        write_summary(job.run_dir, summary)
    return summary, seconds


def _run_forked(job: Job, log_path: Path, timeout_s: float | None, tick) -> str | None:
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_child, args=(list(job.overrides), str(log_path)),
                              name=f"macformer-{job.name}")
    process.start()
    try:
        _wait_ticking(process.join, process.is_alive, timeout_s, tick)
    except KeyboardInterrupt:  # a terminal's Ctrl-C reached the child too: give it time to record it
        _wind_down(process.pid, False, process.join, process.is_alive, already_signalled=True)
        raise
    if process.is_alive():
        _stop(process.pid)
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join()
        return f"stopped after the {timeout_s:.0f} s limit of a run"
    if process.exitcode == CTRL_C_EXIT:
        # The terminal's Ctrl-C reached the run, which recorded it and exited; the driver's
        # own SIGINT may land only after the join returned: stop the sweep either way.
        raise KeyboardInterrupt
    return None if process.exitcode == 0 else _exit_text(process.exitcode)


def _child(overrides: list[str], log_path: str) -> None:
    """In the forked process: send output to the run's log, train, exit without
    running the driver's atexit handlers."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code = 0
    try:
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


def _run_subprocess(job: Job, log_path: Path, timeout_s: float | None, tick) -> str | None:
    command = [sys.executable, "-m", "macformer.train", *job.overrides]
    with open(log_path, "a") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            _wait_ticking(lambda t: _wait(process, t), lambda: process.poll() is None, timeout_s, tick)
            code = process.poll()
            if code is None:
                raise subprocess.TimeoutExpired(command, timeout_s)
        except subprocess.TimeoutExpired:
            _stop(process.pid, group=True)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return f"stopped after the {timeout_s:.0f} s limit of a run"
        except KeyboardInterrupt:  # its own session: the terminal's Ctrl-C did not reach it
            _wind_down(process.pid, True, lambda t: _wait(process, t), lambda: process.poll() is None,
                       already_signalled=False)
            raise
    if code == CTRL_C_EXIT:  # the run was stopped with SIGINT: so is the sweep
        raise KeyboardInterrupt
    return None if code == 0 else _exit_text(code)


def _wait_ticking(wait, alive, timeout_s: float | None, tick, poll_s: float = 1.0) -> None:
    """wait(≤ poll_s) until the process ends or timeout_s passes, calling tick() between."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while alive():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        wait(poll_s if left is None else min(poll_s, left))
        tick()


def _wait(process: subprocess.Popen, timeout: float | None) -> None:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass


def _wind_down(pid: int, group: bool, wait, alive, already_signalled: bool) -> None:
    """After Ctrl-C: let the run record itself `interrupted` (SIGINT, forwarded unless the
    terminal sent it already), then kill it if it does not end within a minute."""
    if already_signalled:
        wait(10)
    if alive():
        _stop(pid, group)
        wait(60)
    if alive():
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
        wait(None)


def _stop(pid: int, group: bool = False) -> None:
    """SIGINT first: training then writes an `interrupted` summary and a checkpoint."""
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGINT)
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
