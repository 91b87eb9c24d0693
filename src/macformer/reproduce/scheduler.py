"""Runs on slots: each slot runs one job at a time in its own process; when one ends, the
next job in the queue (longest first) takes its slot. A failed or killed run is recorded
and the others go on; Ctrl-C stops every run (each records itself `interrupted`, resumable).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .progress import RunWatch
from .runner import CTRL_C_EXIT, RunHandle
from .slots import Slot
from .sweep import Job


def run_on_slots(jobs: list[Job], slots: list[Slot], isolation: str, timeout_s: float | None,
                 started: Callable[[Job, Slot], None], ended: Callable[[Job, dict, float], None],
                 watch_prefix: Callable[[Job], str] | None = None,
                 progress_every_s: float | None = None, poll_s: float = 0.5) -> bool:
    """Run `jobs` in this order on `slots`; `started(job, slot)` before each, `ended(job,
    summary, seconds)` after. Returns True when Ctrl-C stopped the runs."""
    queue = list(jobs)
    running: dict[int, tuple[RunHandle, RunWatch | None]] = {}
    try:
        while queue or running:
            for index, slot in enumerate(slots):
                if index not in running and queue:
                    job = queue.pop(0)
                    started(job, slot)
                    watch = (RunWatch(job.run_dir, lambda job=job: watch_prefix(job), progress_every_s)
                             if watch_prefix else None)
                    running[index] = (RunHandle(job, isolation, timeout_s, slot.env), watch)
            time.sleep(poll_s)
            for index, (handle, watch) in list(running.items()):
                if watch is not None:
                    watch()
                if not handle.alive():
                    del running[index]
                    stop = handle.exitcode() == CTRL_C_EXIT  # SIGINT reached the run: stop the sweep
                    summary, seconds = handle.finish(interrupted=stop)
                    ended(handle.job, summary, seconds)
                    if stop:
                        raise KeyboardInterrupt
    except KeyboardInterrupt:
        for handle, _ in running.values():
            handle.interrupt()
        for handle, _ in running.values():
            summary, seconds = handle.finish(interrupted=True)
            ended(handle.job, summary, seconds)
        return True
    return False
