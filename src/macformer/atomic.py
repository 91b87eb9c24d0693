"""Write a file all at once: to a temporary file beside it, then os.replace.

A reader (or a second report running at the same time) sees either the old file or
the new one, never half of one; an error mid-way leaves the old file in place. The
rename replaces a symlink planted at `path` itself, so nothing is written through it.

The temporary file is named `.<name>.<host>-<pid>.<random>.tmp` (host: 8 hex digits of
the host name): a writer killed mid-way (kill -9) leaves it behind, and the next write of
the same file removes those of this host whose process is gone. A live writer's file (a
second report writing the same file) is never touched, nor one from another host.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path

import psutil

HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_prefix(path: Path) -> str:
    """The start of this process's temporary files for `path` (see the module docstring)."""
    return f".{path.name}.{HOST_TAG}-{os.getpid()}."


def _writer_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def remove_orphans(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of `path` left by writers of this host that are gone."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{HOST_TAG}-(\d+)\.[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and int(match.group(1)) != os.getpid() and _writer_gone(int(match.group(1))):
            try:
                (path.parent / name).unlink()
                removed.append(path.parent / name)
            except OSError:
                pass  # another writer cleaned it first, or the folder is read-only
    return removed


def remove_orphans_in(folder: str | os.PathLike) -> list[Path]:
    """remove_orphans for every target that has a temporary file in `folder` or below."""
    pattern = re.compile(rf"^\.(.+)\.{HOST_TAG}-\d+\.[A-Za-z0-9_]+\.tmp$")
    removed = []
    for parent, _, names in os.walk(folder):
        for target in {m.group(1) for m in map(pattern.match, names) if m}:
            removed += remove_orphans(Path(parent) / target)
    return removed


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:  # a write() error names no file: name the one being written
            error.filename = str(path)
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
