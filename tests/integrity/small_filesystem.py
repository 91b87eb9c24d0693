"""Real small filesystems for the full-disk and read-only tests: a tmpfs of a given size,
mounted for the test (root, and a container that allows mount), else the reason why not."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path


def _mount(*args: str) -> str | None:
    """None when `mount ARGS` worked, else why it did not."""
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    except OSError as error:
        return f"mount cannot run: {error}"
    return None if done.returncode == 0 else (done.stderr.strip() or f"mount exited {done.returncode}")


def tmpfs_problem(folder: Path) -> str | None:
    """Why no tmpfs can be mounted at `folder` here (None: it can)."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    folder.mkdir(parents=True, exist_ok=True)
    why = _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder))
    if why is None:
        subprocess.run(["umount", str(folder)], check=True, timeout=30)
    return why and f"cannot mount a tmpfs: {why}"


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A tmpfs of `size` (e.g. "64k") at `folder` for the block; unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    why = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    if why is not None:
        raise RuntimeError(f"cannot mount a tmpfs at {folder}: {why}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)


def read_only(folder: Path) -> None:
    """Remount the tmpfs at `folder` read-only."""
    why = _mount("-o", "remount,ro", str(folder))
    if why is not None:
        raise RuntimeError(f"cannot remount {folder} read-only: {why}")


def fill(folder: Path) -> None:
    """Take every free byte of the filesystem at `folder`."""
    with open(folder / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
