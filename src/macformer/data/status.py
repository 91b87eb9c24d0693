"""Which LRA tasks are ready under a data folder, and how to fix those that are not."""

from __future__ import annotations

import json
from pathlib import Path

from .readers import hub
from .readers.pathfinder_images import metadata_files
from .release import (
    GENERATED_MARKER,
    LRA_ARCHIVE_URL,
    LRA_FOLDERS,
    PATHFINDER_HARD,
    find_release_folder,
)
from .tasks import TASKS

PREPARE = "python -m macformer.data.prepare --data-dir {d}"


def _origin(folder: Path) -> str:
    marker = folder / GENERATED_MARKER
    if marker.is_file():
        info = json.loads(marker.read_text())
        return f"generated (seed {info.get('seed')}) at {folder}"
    return f"release at {folder}"


def _listops(d):
    folder = find_release_folder(d, LRA_FOLDERS["listops"])
    if folder and all((folder / f"basic_{s}.tsv").is_file() for s in ("train", "val", "test")):
        return True, _origin(folder)
    return False, f"run `python -m macformer.data.generators.listops --out {d}/lra_release` (or `make data`)"


def _hub(name, what):
    def check(d):
        if hub.is_saved(d, name):
            return True, f"{hub.HUB_SOURCES[name][0]} saved at {hub.hub_folder(d, name)}"
        return False, (f"needs network: `{PREPARE.format(d=d)} --only {what}` fetches {hub.HUB_SOURCES[name][0]}; "
                       f"or copy a saved DatasetDict to {hub.hub_folder(d, name)}")
    return check


def _retrieval(d):
    folder = find_release_folder(d, "tsv_data")
    if folder and all((folder / f"new_aan_pairs.{s}.tsv").is_file() for s in ("train", "eval", "test")):
        return True, f"release at {folder}"
    return False, (f"needs the LRA release: `{PREPARE.format(d=d)} --only retrieval` downloads {LRA_ARCHIVE_URL}; "
                   f"or unpack it so that {d}/lra_release/lra_release/tsv_data exists")


def _pathfinder(name, size, task):
    def check(d):
        folder = find_release_folder(d, f"{name}/{PATHFINDER_HARD}")
        if folder and metadata_files(folder):
            return True, _origin(folder)
        if task == "pathfinder":
            return False, (f"run `python -m macformer.data.generators.pathfinder --out {d}/lra_release --size 32 "
                           f"--difficulty hard` (or `make data`)")
        return False, (f"needs the LRA release: `{PREPARE.format(d=d)} --only pathx` downloads {LRA_ARCHIVE_URL}; "
                       f"or generate it: `python -m macformer.data.generators.pathfinder --out {d}/lra_release --size 128 --difficulty hard`")
    return check


_CHECKS = {
    "listops": _listops,
    "text": _hub("imdb", "text"),
    "retrieval": _retrieval,
    "image": _hub("cifar10", "image"),
    "pathfinder": _pathfinder("pathfinder32", 32, "pathfinder"),
    "pathx": _pathfinder("pathfinder128", 128, "pathx"),
}


def data_status(data_dir="data") -> list[tuple[str, bool, str]]:
    """(task, ready, where it is / how to get it) for every task; touches no network."""
    return [(task, *_CHECKS[task](Path(data_dir))) for task in TASKS]


def format_status(rows) -> str:
    width = max(len(task) for task, _, _ in rows)
    lines = [f"{'task':<{width}}  status   detail"]
    for task, ready, detail in rows:
        lines.append(f"{task:<{width}}  {'ready  ' if ready else 'MISSING'}  {detail}")
    return "\n".join(lines)
