"""One process per run folder: `<run dir>/run.lock` holds the pid, host and start time.

Two runs of the same configuration would share one folder (checkpoints, metrics.csv,
summary.json) and interleave them. The second one refuses, naming the first. A lock left
by a process that died (same host, pid gone or reused) is taken over, with a message;
a lock from another host is never guessed to be stale.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import psutil

from .outcome import RunError

LOCK_NAME = "run.lock"
log = logging.getLogger(__name__)


class RunLocked(RunError):
    """Another live process is running this configuration in the same folder."""


def _alive(pid: int, started: float | None) -> bool:
    try:
        process = psutil.Process(pid)
        # A pid reused by a process started after the lock was written is not the owner.
        return started is None or process.create_time() <= started + 1.0
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


class RunLock:
    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half-written by a process that died while writing it

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(timezone.utc).timestamp(),
              "start_time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale(me["host"])
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            self.held = True
            return self
        raise RunError(f"could not take the lock {self.path}; remove it if no run of this configuration "
                       f"is running")

    def _take_over_if_stale(self, host: str) -> None:
        holder = self._holder()
        if holder is None:
            return  # released meanwhile: try again
        pid, their_host = holder.get("pid"), holder.get("host")
        stale = holder == {} or (their_host == host and isinstance(pid, int)
                                 and not _alive(pid, holder.get("started")))
        if not stale:
            raise RunLocked(
                f"{self.path.parent} is in use by another run of this configuration (pid {pid} on "
                f"{their_host}, started {holder.get('start_time')}); wait for it to end, or stop it "
                f"(it resumes when re-run). If that process is gone, delete {self.path}")
        message = (f"taking over the stale lock {self.path} (pid {pid} on {their_host}, started "
                   f"{holder.get('start_time')}, is no longer running)")
        log.warning(message)
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
