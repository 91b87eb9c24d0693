"""One process per run folder: `<run dir>/run.lock`, exclusive, naming its holder.

Two runs of the same configuration would share one folder (checkpoints, metrics.csv,
summary.json) and interleave them. The second one refuses (RunLocked), naming the first.

Exclusive even when two processes start at the same instant:
- the lock file appears whole: its JSON (pid, host, started, start_time, driver_pid) is
  written to a temporary file, which is then hard-linked to run.lock; the link fails when
  run.lock exists, so exactly one process creates it, and nobody ever reads it half-written;
- its holder keeps an flock on it for the run's life, taken on the temporary file before
  the link, so run.lock is never there without its flock.
A lock is stale only when its owner is provably gone: the same host, the flock free and
the pid dead (or reused). A lock from another host, or one that cannot be read, is never
guessed to be stale. Taking over a stale lock happens under its flock, and only while
run.lock is still that very file, so a fresh lock made meanwhile is never removed.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import stat
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

from macformer import atomic

from .outcome import RunError

LOCK_NAME = "run.lock"
LOCKED_EXIT = 75  # EX_TEMPFAIL: the run is held by another process; try again later
log = logging.getLogger(__name__)
_HELD: set[int] = set()  # this process's lock file descriptors


def _drop_inherited() -> None:
    """In a forked child (a DataLoader worker, a test's fork): let go of the parent's locks,
    so that a child outliving its parent never keeps a dead run's lock held."""
    for fd in _HELD:
        os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_inherited)


class RunLocked(RunError):
    """Another live process holds this run folder; `.holder` is its lock's JSON ({} if unreadable)."""

    def __init__(self, message: str, holder: dict):
        super().__init__(message)
        self.holder = holder


def read_holder(run_dir: str | os.PathLike) -> dict | None:
    """The JSON of `<run_dir>/run.lock`: None when there is none, {} when it cannot be read."""
    try:
        fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    with os.fdopen(fd) as handle:
        return _parse(handle)


def _parse(handle) -> dict:
    try:
        holder = json.loads(handle.read())
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def holder_alive(holder: dict) -> bool:
    """False only when `holder` is provably gone: on this host, its pid dead or reused.
    Another host, or a holder without a pid: True (never guessed)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or isinstance(pid, bool):
        return True
    started = holder.get("started")
    try:
        process = psutil.Process(pid)
        # A pid reused by a process started after the lock was written is not the owner.
        if isinstance(started, (int, float)) and process.create_time() > started + 1.0:
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class RunLock:
    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False
        self._fd: int | None = None
        self._owner = os.getpid()  # only the process that took it releases it

    def acquire(self, attempts: int = 50) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            if self._create():
                self.held = True
                return self
            self._take_over_if_stale()
        raise RunError(f"could not take the lock {self.path}; remove it if no run of this configuration "
                       f"is running")

    def _create(self) -> bool:
        """Make run.lock, whole and flocked, in one step; False when it exists."""
        now = datetime.now(timezone.utc)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": now.timestamp(),
              "start_time": now.isoformat(timespec="seconds"), "driver_pid": os.getppid()}
        atomic.remove_orphans(self.path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=atomic.temp_prefix(self.path), suffix=".tmp", dir=self.path.parent)
        except OSError as error:  # a read-only or full folder: name the lock, not a random name
            error.filename = str(self.path)
            raise
        try:
            os.write(fd, json.dumps(me).encode())
            os.fsync(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)  # nobody else knows this file yet
            os.chmod(tmp, 0o644)
            os.link(tmp, self.path)  # fails when run.lock exists (also as a symlink)
        except FileExistsError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        finally:
            Path(tmp).unlink(missing_ok=True)
        self._fd, self._owner = fd, os.getpid()
        _HELD.add(fd)
        return True

    def _locked(self, holder: dict, why: str = "") -> RunLocked:
        pid, host = holder.get("pid"), holder.get("host")
        if not holder:
            return RunLocked(f"{self.path.parent} is locked by {self.path}, which cannot be read{why}; "
                             f"if no run of this configuration is running, delete {self.path}", holder)
        return RunLocked(
            f"{self.path.parent} is in use by another run of this configuration (pid {pid} on {host}, "
            f"started {holder.get('start_time')}); wait for it to end, or stop it (it resumes when "
            f"re-run). If that process is gone, delete {self.path}", holder)

    def _take_over_if_stale(self) -> None:
        """Return to try again (the lock is gone, or was stale and is removed); raise RunLocked."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return  # released meanwhile
        except OSError:  # a symlink planted as run.lock is never a lock of ours
            if stat.S_ISLNK(os.lstat(self.path).st_mode):
                log.warning(f"removed {self.path}: a symlink (to {os.readlink(self.path)}), not a run lock")
                self.path.unlink(missing_ok=True)
                return
            raise
        try:
            with os.fdopen(fd, closefd=False) as handle:
                holder = _parse(handle)
            if not _try_flock(fd):
                if holder and not holder_alive(holder):
                    time.sleep(0.01)  # its owner is gone: another process is taking it over
                    return
                raise self._locked(holder)
            # We hold its flock: no live process on this host holds this file.
            if holder.get("host") != socket.gethostname():
                raise self._locked(holder)  # another host's flock may not reach us: never guessed
            if not holder or holder_alive(holder):
                raise self._locked(holder, " (half-written or not a lock)" if not holder else "")
            try:
                same_file = os.stat(self.path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                return
            if same_file:  # still the stale file, not a fresh lock made since
                log.warning(f"taking over the stale lock {self.path} (pid {holder.get('pid')} on "
                            f"{holder.get('host')}, started {holder.get('start_time')}, is no longer running)")
                self.path.unlink()
        finally:
            os.close(fd)

    def release(self) -> None:
        if self.held and self._owner == os.getpid():
            try:
                self.path.unlink(missing_ok=True)  # under our flock: nobody takes over in between
            finally:
                _HELD.discard(self._fd)
                os.close(self._fd)
        self._fd, self.held = None, False
