"""An OSError of a run's files in one line: which file, which filesystem, what happened,
and for a full disk how much room is left. A full disk or a read-only folder is a
fact about the machine, not a bug: the command line prints this, no traceback."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import psutil

NO_ROOM = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
           errno.EFBIG: "file too large (the file size limit, ulimit -f)"}


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


def filesystem_of(path: str | os.PathLike) -> tuple[str, str]:
    """(mount point, type) of the filesystem that holds `path` (or its nearest existing parent)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    mounts = {part.mountpoint: part.fstype for part in psutil.disk_partitions(all=True)}
    point = path
    while not os.path.ismount(point) and point != point.parent:
        point = point.parent
    return str(point), mounts.get(str(point), "unknown type")


def describe_os_error(error: OSError, folder: str | os.PathLike | None = None) -> str:
    """e.g. "no space left on device writing /r/runs/.../best.ckpt (filesystem /r, ext4, 12.0 KiB free)".
    `folder`: where the error happened, for an error that names no file (a write() deep in a library)."""
    file = error.filename
    what = NO_ROOM.get(error.errno) or (error.strerror or str(error)).lower()
    if file is None and folder is None:
        return f"{what} ({type(error).__name__})"
    point, kind = filesystem_of(file or folder)
    file = file or f"a file in {folder}"
    if error.errno in NO_ROOM:
        try:
            free = f", {_size(shutil.disk_usage(point).free)} free"
        except OSError:
            free = ""
        return f"{what} writing {file} (filesystem {point}, {kind}{free})"
    if error.errno == errno.EROFS:
        return f"read-only file system: cannot write {file} (filesystem {point}, {kind})"
    return f"{what}: {file}"

