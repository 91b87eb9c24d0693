"""Where the LRA release lives under a data folder, and fingerprints of source files.

The archive unpacks as `lra_release/lra_release/<folder>` for most users and as
`lra_release/<folder>` for some; both are accepted, the deeper one first.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from stat import S_ISDIR

from .tasks import MissingDataError

LRA_ARCHIVE_URL = "https://storage.googleapis.com/long-range-arena/lra_release.gz"
# The release's folders of the tasks this harness can also generate (Pathfinder: the
# hard set, contour length 14), and the marker a generated set carries (readers ignore it).
PATHFINDER_HARD = "curv_contour_length_14"
LRA_FOLDERS = {"listops": "listops-1000", "pathfinder": f"pathfinder32/{PATHFINDER_HARD}",
               "pathx": f"pathfinder128/{PATHFINDER_HARD}"}
GENERATED_MARKER = "GENERATED.json"


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
    """A hash of the path, size and modification time of every file in `paths`
    (folders are walked), so regenerated, replaced, removed or restored data gets a
    new fingerprint. A file that does not exist is recorded as missing, not an error:
    a Pathfinder split lists the images it reads, and one that comes back must change
    the key. Only stat calls, no reading: 200,000 images take about a second."""
    lines = []
    resolved: dict[str, str] = {}  # each folder is resolved once, not each file

    def record(path: str, stat):
        head, _, name = path.rpartition(os.sep)
        if head not in resolved:
            resolved[head] = str(Path(head or ".").resolve())
        size = "missing" if stat is None else f"{stat.st_size}\0{stat.st_mtime_ns}"
        lines.append(f"{resolved[head]}/{name}\0{size}\n")

    for path in paths:
        path = os.fspath(path)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            record(path, None)
            continue
        if S_ISDIR(stat.st_mode):
            for entry in _walk(path):
                record(entry.path, entry.stat())
        else:
            record(path, stat)
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]


def _walk(folder: str):
    """Every file under `folder`, in name order (independent of the file system)."""
    with os.scandir(folder) as entries:
        entries = sorted(entries, key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir():
            yield from _walk(entry.path)
        elif entry.is_file():
            yield entry
