"""Runs another process holds: the driver's side of a run folder's lock (run.lock).

A run held by a live process (another driver's, or a user's `macformer-train`) is reported
"held by another process" and the driver writes nothing into its folder. A run whose
driver was killed (kill -9) outlives it only briefly: each run process asks the kernel
for SIGTERM when its parent dies (PR_SET_PDEATHSIG), records itself `interrupted` and
ends; a re-run that still finds such an orphan holding the lock waits for it (bounded),
then resumes the run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from macformer.lifecycle.lock import holder_alive, read_holder

HELD = "held"  # the status of a run another process holds (never written into its folder)
ORPHAN_WAIT_S = 120.0  # how long a re-run waits for the orphans of a killed driver to end
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(parent_pid: int | None = None) -> None:
    """In a run process: SIGTERM when the driver dies (Linux; elsewhere nothing). When the
    driver `parent_pid` is already gone, exit at once: no run without its driver."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            return  # no prctl: a killed driver's run then ends on its own (a re-run waits for it)
    if parent_pid is not None and os.getppid() != parent_pid:  # died before prctl took effect
        os._exit(143)


def live_holder(run_dir: str | os.PathLike) -> dict | None:
    """The lock's holder of `run_dir` when it is a live process (or one on another host)."""
    holder = read_holder(Path(run_dir))
    return holder if holder and holder_alive(holder) else None


def orphaned(holder: dict) -> bool:
    """True when the holder is a run on this host whose driver is gone: its parent is no
    longer the driver_pid the lock names (a process is re-parented only when its parent dies)."""
    driver = holder.get("driver_pid")
    if holder.get("host") != socket.gethostname() or not isinstance(driver, int):
        return False
    try:
        return psutil.Process(holder["pid"]).ppid() != driver
    except (psutil.Error, KeyError, TypeError):
        return False


def held_text(holder: dict | None) -> str:
    """The one line a held run is reported with."""
    if not holder:
        return "held by another process (it has ended since; re-run the same command to run it)"
    text = (f"held by another process (pid {holder.get('pid')} on {holder.get('host')}, started "
            f"{holder.get('start_time')})")
    if orphaned(holder):
        text += (f"; its driver (pid {holder.get('driver_pid')}) is gone and it did not end: stop it "
                 f"or let it finish, then re-run the same command")
    return text


def wait_for_orphans(run_dirs: list[Path], say: Callable[[str], None],
                     limit_s: float = ORPHAN_WAIT_S, poll_s: float = 1.0) -> None:
    """Wait (up to `limit_s` in all) for the runs of `run_dirs` that a killed driver left
    behind to end, so that this driver resumes them instead of finding them held."""
    orphans = {}
    for run_dir in run_dirs:
        holder = live_holder(run_dir)
        if holder and orphaned(holder):
            orphans[run_dir] = holder
    if not orphans:
        return
    say(f"reproduce: {len(orphans)} run(s) still running from a driver that is gone (pid(s) "
        f"{', '.join(str(h.get('pid')) for h in orphans.values())}); waiting up to {limit_s:.0f} s for "
        "them to record themselves and end, then resuming them")
    deadline = time.monotonic() + limit_s
    while orphans and time.monotonic() < deadline:
        time.sleep(poll_s)
        orphans = {d: h for d, h in orphans.items() if live_holder(d) == h}
    for run_dir in orphans:
        say(f"reproduce: {run_dir}: still running after {limit_s:.0f} s; it is reported held")
