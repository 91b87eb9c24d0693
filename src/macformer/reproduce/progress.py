"""Overall progress of a sweep: runs done / total, elapsed time, estimated time left.

The estimate uses the runs trained in this session (runs skipped because they had
completed before, and tasks whose data is missing, cost nothing): the mean time of
the task's runs so far, else of all runs so far, times the runs left of each task.
"""

from __future__ import annotations

import time
from collections import defaultdict


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class Progress:
    def __init__(self, tasks_of_jobs: list[str]):
        self.total = len(tasks_of_jobs)
        self.left: dict[str, int] = defaultdict(int)
        for task in tasks_of_jobs:
            self.left[task] += 1
        self.done = 0
        self.start = time.monotonic()
        self.durations: dict[str, list[float]] = defaultdict(list)

    def finish(self, task: str, seconds: float | None = None) -> None:
        """A job is done; `seconds` when it trained (None: skipped or missing)."""
        self.done += 1
        self.left[task] -= 1
        if seconds is not None:
            self.durations[task].append(seconds)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float | None:
        everything = [d for ds in self.durations.values() for d in ds]
        if not everything:
            return None if self.done < self.total else 0.0
        overall = sum(everything) / len(everything)
        estimate = 0.0
        for task, left in self.left.items():
            own = self.durations.get(task)
            estimate += left * (sum(own) / len(own) if own else overall)
        return estimate

    def line(self) -> str:
        left = self.remaining()
        eta = "unknown" if left is None else clock(left)
        return f"[{self.done}/{self.total}] elapsed {clock(self.elapsed)}, remaining ≈ {eta}"
