"""A lock race: two processes take one run folder's lock at the same instant, many times.

Two worker processes live for the whole race; for each trial both wait at a barrier, then
call `acquire()` on a fresh folder. One that gets the lock adds itself to a shared count of
holders, notes the highest count seen, waits a moment (the other may be taking it too),
then leaves and releases. A highest count of 2 in a trial means both held the lock at once.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

HOLD_S = 0.02  # long enough for the other process to finish taking it, if it can


def _worker(lock_class, root: Path, trials: int, barrier, holders, most, done) -> None:
    for trial in range(trials):
        folder = root / f"trial{trial}"
        barrier.wait()
        try:
            lock = lock_class(folder).acquire()
        except Exception:  # noqa: BLE001  (refused: the other one holds it)
            lock = None
        if lock is not None:
            with holders.get_lock():
                holders.value += 1
                most[trial] = max(most[trial], holders.value)
            time.sleep(HOLD_S)
            with holders.get_lock():
                holders.value -= 1
            lock.release()
        barrier.wait()  # both done with this folder before the next trial
    done.put(True)


def count_double_holds(lock_class, root: Path, trials: int, stale_lock: str | None = None) -> int:
    """In how many of `trials` races both processes held a `lock_class(folder)` at once.
    `stale_lock`: the text of a run.lock put in every folder first (both then take it over)."""
    context = multiprocessing.get_context("fork")
    barrier, holders = context.Barrier(2), context.Value("i", 0)
    most, done = context.Array("i", trials), context.Queue()
    for trial in range(trials):
        (root / f"trial{trial}").mkdir(parents=True)
        if stale_lock is not None:
            (root / f"trial{trial}" / "run.lock").write_text(stale_lock)
    workers = [context.Process(target=_worker, args=(lock_class, root, trials, barrier, holders, most, done))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
        assert worker.exitcode == 0, f"a racing process ended with {worker.exitcode}"
    return sum(1 for count in most if count >= 2)
