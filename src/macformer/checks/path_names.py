"""Folder names the file system can hold: every component of the data folder, the results
folder and the run's folder fits NAME_MAX (255 bytes on most file systems), and the whole
path PATH_MAX, as asked of the nearest folder that exists. Otherwise the first mkdir
deep inside a run fails with errno 36 (ENAMETOOLONG).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError

NAME_MAX, PATH_MAX = 255, 4096  # where the file system cannot be asked


def check_path_names(paths: dict[str, str]) -> None:
    """`paths`: {key: path}, e.g. {"paths.results_dir": "results/"}; the first too long is an error."""
    for key, value in paths.items():
        path = Path(os.path.abspath(os.path.expanduser(str(value))))
        existing = _nearest_existing(path)
        name_max = _limit(existing, "PC_NAME_MAX", NAME_MAX)
        for part in path.parts[1:]:
            size = len(os.fsencode(part))
            if size > name_max:
                raise ConfigError(f"{key} has a folder name of {size} bytes ({part[:24]}…), over the "
                                  f"file system's limit of {name_max} (NAME_MAX at {existing}); shorten it")
        path_max = _limit(existing, "PC_PATH_MAX", PATH_MAX)
        if len(os.fsencode(str(path))) >= path_max:
            raise ConfigError(f"{key} is a path of {len(os.fsencode(str(path)))} bytes, over the file "
                              f"system's limit of {path_max - 1} (PATH_MAX at {existing}); shorten it")


def _nearest_existing(path: Path) -> Path:
    for folder in (path, *path.parents):
        try:
            if folder.is_dir():
                return folder
        except OSError:  # a component too long to even look up
            continue
    return Path("/")


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (OSError, ValueError):
        return default
