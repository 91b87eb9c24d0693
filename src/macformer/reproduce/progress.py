"""Progress of a sweep: runs done / total, elapsed time, estimated time left; and within a
run, its step and the time it has left (RunWatch), read from the run's progress.json.

The estimate uses the runs trained in this session (runs skipped because they had
completed before, and tasks whose data is missing, cost nothing): the mean time of
the task's runs so far, else of all runs so far, times the runs left of each task,
shared among the slots; before any run has finished, the plan's estimates. A run that
is training counts what it has left: its own ETA (its progress.json), else its estimate
less the time it has run; so the time left moves with the runs, not only when one ends.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class Progress:
    def __init__(self, tasks_of_jobs: list[str], planned: dict[str, float] | None = None, slots: int = 1):
        """`planned`: task → the plan's mean estimated seconds of its runs (used until runs
        have finished); `slots`: runs at once (the time left is shared among them)."""
        self.total = len(tasks_of_jobs)
        self.left: dict[str, int] = defaultdict(int)
        for task in tasks_of_jobs:
            self.left[task] += 1
        self.done = 0
        self.start = time.monotonic()
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.planned, self.slots = planned or {}, max(1, slots)
        self.running: dict[Path, tuple[str, float]] = {}  # run folder → (task, when it started)

    def begin(self, task: str, run_dir: Path) -> None:
        """A run of `task` starts training in `run_dir` (its progress.json gives its ETA)."""
        self.running[Path(run_dir)] = (task, time.monotonic())

    def finish(self, task: str, seconds: float | None = None, run_dir: Path | None = None) -> None:
        """A job is done; `seconds` when it trained (None: skipped or missing)."""
        self.done += 1
        self.left[task] -= 1
        if run_dir is not None:
            self.running.pop(Path(run_dir), None)
        if seconds is not None:
            self.durations[task].append(seconds)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _typical(self, task: str) -> float | None:
        """Seconds of one run of `task`: its runs so far, else all runs so far, else the plan's."""
        own = self.durations.get(task)
        everything = [d for ds in self.durations.values() for d in ds]
        if own:
            return sum(own) / len(own)
        if everything:
            return sum(everything) / len(everything)
        return self.planned.get(task)

    def _left_of_running(self, run_dir: Path, task: str, since: float) -> float | None:
        state = run_progress_state(run_dir, since)
        eta = None if not state or state.get("eta_seconds") is None else float(state["eta_seconds"])
        typical = self._typical(task)
        guess = None if typical is None else max(0.0, typical - (time.monotonic() - since))
        if eta is not None and state.get("stage") == "pretraining":
            # only the pretraining's time left; its fine-tuning is still to come
            return eta if guess is None else max(eta, guess)
        return eta if eta is not None else guess

    def remaining(self) -> float | None:
        """Wall seconds left: the runs in the queue and what the running ones have left,
        shared among the slots, and never less than the longest running one has left."""
        queued = dict(self.left)
        running = []
        for run_dir, (task, since) in self.running.items():
            queued[task] = queued.get(task, 0) - 1
            running.append(self._left_of_running(run_dir, task, since))
        waiting = [(n, self._typical(t)) for t, n in queued.items() if n > 0]
        if None in running or any(s is None for _, s in waiting):
            return None
        total = sum(n * s for n, s in waiting) + sum(running)
        return max(total / self.slots, max(running, default=0.0))

    def line(self) -> str:
        left = self.remaining()
        eta = "unknown" if left is None else clock(left)
        return f"[{self.done}/{self.total}] elapsed {clock(self.elapsed)}, remaining ≈ {eta}"


def run_progress_state(run_dir: Path, since: float | None = None) -> dict | None:
    """The run's progress.json, or None (none yet; or, with `since` (monotonic), one written
    before that: an earlier attempt's)."""
    from macformer.lifecycle.record import read_json

    path = Path(run_dir) / "progress.json"
    state = read_json(path)
    if state and since is not None:
        try:
            written = path.stat().st_mtime
        except OSError:
            return None
        if written < time.time() - (time.monotonic() - since) - 1.0:  # (file clocks are coarse)
            return None
    return state


def run_progress(run_dir: Path) -> tuple[int, str] | None:
    """(step, "step 1200/10000 (12%), 3.1 steps/s, run ETA 0:47:12") from the run's
    progress.json (training/callbacks/progress_file.py); None before its first step."""
    from macformer.lifecycle.record import read_json

    state = read_json(Path(run_dir) / "progress.json")
    if not state or not state.get("max_steps"):
        return None
    step, total = int(state["step"]), int(state["max_steps"])
    rate, eta = state.get("steps_per_second"), state.get("eta_seconds")
    stage = state.get("stage")  # "pretraining" while a self-pretrained run pretrains
    text = f"{stage + ' ' if stage else ''}step {step}/{total} ({100 * step / total:.0f}%)"
    if rate:
        text += (f", {rate:.2f} steps/s, {stage or 'run'} ETA {clock(eta)}" if eta is not None
                 else f", {rate:.2f} steps/s")
    return step, text


class RunWatch:
    """Called while a run trains: prints its step and ETA when the step moved and at
    least `every_s` seconds passed since the last line (every_s=None: silent)."""

    def __init__(self, run_dir: Path, prefix, every_s: float | None):
        self.run_dir, self.prefix, self.every_s = Path(run_dir), prefix, every_s
        self._last_step, self._last_time = None, time.monotonic()
        (self.run_dir / "progress.json").unlink(missing_ok=True)  # an earlier attempt's

    def __call__(self) -> None:
        if self.every_s is None or time.monotonic() - self._last_time < self.every_s:
            return
        progress = run_progress(self.run_dir)
        if progress is None or progress[0] == self._last_step:
            return
        self._last_step, self._last_time = progress[0], time.monotonic()
        print(f"{self.prefix()} {progress[1]}", flush=True)
