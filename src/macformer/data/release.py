"""Where the LRA release lives under a data folder, and fingerprints of source files.

The archive unpacks as `lra_release/lra_release/<folder>` for most users and as
`lra_release/<folder>` for some; both are accepted, the deeper one first.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .tasks import MissingDataError

LRA_ARCHIVE_URL = "https://storage.googleapis.com/long-range-arena/lra_release.gz"


def release_roots(data_dir) -> list[Path]:
    base = Path(data_dir) / "lra_release"
    return [base / "lra_release", base]


def find_release_folder(data_dir, folder: str) -> Path | None:
    """`<data_dir>/lra_release[/lra_release]/<folder>` if either exists."""
    for root in release_roots(data_dir):
        if (root / folder).is_dir():
            return root / folder
    return None


def require_release_folder(data_dir, folder: str, how_to_get: str) -> Path:
    found = find_release_folder(data_dir, folder)
    if found is None:
        expected = " or ".join(str(root / folder) for root in release_roots(data_dir))
        raise MissingDataError(f"missing {expected}; {how_to_get}")
    return found


def require_file(path: Path, how_to_get: str) -> Path:
    if not path.is_file():
        raise MissingDataError(f"missing {path}; {how_to_get}")
    return path


def fingerprint(paths) -> str:
    """A hash of the name, size and modification time of every file in `paths`
    (folders are walked): regenerated or replaced data gets a new fingerprint."""
    records = []
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            stat = f.stat()
            records.append((str(f.resolve()), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps(records).encode()).hexdigest()[:16]
