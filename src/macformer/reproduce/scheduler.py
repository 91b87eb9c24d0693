"""Runs on slots: each slot runs one job at a time in its own process; when one ends, the
next job in the queue (longest first) takes its slot. A failed, killed, timed-out or held
run is recorded and the others go on. Ctrl-C of the driver, and nothing else, stops every
run (each records itself `interrupted`, resumable): a run's own exit status never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .progress import RunWatch
from .runner import RunHandle
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
                    handle = RunHandle(job, isolation, timeout_s, slot.env)
                    if handle.started:  # (a run another process holds ends at the next poll)
                        started(job, slot)
                    watch = (RunWatch(job.run_dir, lambda job=job: watch_prefix(job), progress_every_s)
                             if watch_prefix and handle.started else None)
                    running[index] = (handle, watch)
            time.sleep(poll_s)
            for index, (handle, watch) in list(running.items()):
                if watch is not None:
                    watch()
                if not handle.alive():
                    del running[index]
                    summary, seconds = handle.finish()
                    ended(handle.job, summary, seconds)
    except KeyboardInterrupt:
        for handle, _ in running.values():
            handle.interrupt()
        for handle, _ in running.values():
            summary, seconds = handle.finish(interrupted=True)
            ended(handle.job, summary, seconds)
        return True
    return False
