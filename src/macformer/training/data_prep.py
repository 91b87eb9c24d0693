"""Make sure a run's data is there: generate ListOps / Pathfinder / Path-X when missing.

ListOps and Pathfinder are synthetic in LRA itself, so a run that finds them missing
generates them (at the profile's size, `generate.*` in the config) into
`<data_dir>/lra_release`, where the readers and `make data` look, and says so. A set
that this harness generated earlier at a SMALLER size than the profile asks for is
generated again; a release (no GENERATED.json marker) is never touched. The other
tasks cannot be generated: their absence is an error that names `make data`.
Concurrent jobs (joblib) serialise generation with a lock file, taken only when something
needs generating (a read-only data folder with complete data works).
"""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from macformer.data.variants import (
    LRA,
    MARKER,
    check_dataset,
    generate_variant,
    is_complete,
    variant_folder,
    why_generate,
)

from .outcome import RunError

log = logging.getLogger(__name__)

PATHFINDER_SIZES = {"pathfinder": 32, "pathx": 128}
HARD_FOLDER = "curv_contour_length_14"


class DataMissing(FileNotFoundError):
    """The task's data is absent and cannot be generated here."""


def generated_folder(task: str, data_dir: Path, dataset: str = LRA) -> Path | None:
    if check_dataset(task, dataset) is not None:
        return variant_folder(data_dir, dataset)  # a reduced set: never an LRA folder
    release = Path(data_dir) / "lra_release"
    if task == "listops":
        return release / "listops-1000"
    if task in PATHFINDER_SIZES:
        return release / f"pathfinder{PATHFINDER_SIZES[task]}" / HARD_FOLDER
    return None


def _candidates(task: str, data_dir: Path) -> list[Path]:
    """Where the readers accept the task's release folder (both archive layouts)."""
    folder = generated_folder(task, data_dir)
    if folder is None:
        return []
    relative = folder.relative_to(Path(data_dir) / "lra_release")
    return [folder, Path(data_dir) / "lra_release" / "lra_release" / relative]


def _wanted(task: str, cfg: DictConfig) -> dict:
    if task == "listops":
        return {k: int(v) for k, v in cfg.generate.listops.items()}
    return {"count": int(cfg.generate.pathfinder.count)}


def _too_small(task: str, marker: dict, wanted: dict) -> bool:
    # The generators' markers say train/val/test (ListOps) and count (Pathfinder).
    return any(int(marker.get(key.removeprefix("n_")) or 0) < value for key, value in wanted.items())


def _open_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w")  # flock'ed while generating; closing the file releases it


def _why_generate(task: str, data_dir: Path, wanted: dict, profile: str, dataset: str = LRA) -> str | None:
    """Why the task's data must be generated now, or None when it is there at the size wanted."""
    variant = check_dataset(task, dataset)
    if variant is not None:  # a reduced set: its own options and sizes (seed: whichever made it)
        return why_generate(data_dir, variant, wanted)
    present = [f for f in _candidates(task, data_dir) if is_complete(task, f)]
    if not present:
        return f"no {task} data under {data_dir}"
    marker_path = present[0] / MARKER
    if marker_path.exists():
        marker = json.loads(marker_path.read_text())
        if _too_small(task, marker, wanted):
            return (f"the {task} data in {present[0]} was generated at a smaller size "
                    f"({ {k: marker.get(k.removeprefix('n_')) for k in wanted} }) than profile "
                    f"{profile} needs ({wanted})")
    return None


def ensure_data(cfg: DictConfig) -> str | None:
    """Generate the task's data if it is missing (and generable); return what was done, if anything."""
    task, data_dir = cfg.task.name, Path(cfg.paths.data_dir)
    dataset = cfg.data.get("dataset") or LRA
    folder = generated_folder(task, data_dir, dataset)
    if folder is None or not cfg.task.get("generate", False):
        return None  # the data module reports missing files itself (naming `make data`)
    wanted = _wanted(task, cfg)
    # Checked first without the lock, so that a read-only data folder that holds the data works.
    if _why_generate(task, data_dir, wanted, cfg.run.profile, dataset) is None:
        return None
    lock = data_dir / f".generate-{task}.lock"
    try:
        handle = _open_lock(lock)
    except OSError as error:
        raise RunError(f"cannot generate {task} data into {data_dir}: {lock} cannot be created "
                       f"({error.strerror}); make {data_dir} writable, or point paths.data_dir at a "
                       f"folder that holds the data (`make data` writes it)") from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        reason = _why_generate(task, data_dir, wanted, cfg.run.profile, dataset)  # another job may have made it
        if reason is None:
            return None
        message = f"{reason}: generating {task} ({dataset}, {wanted}, seed {cfg.generate.seed}) into {folder}"
        log.info(message)
        print(message, flush=True)
        _generate(task, data_dir, wanted, int(cfg.generate.seed), dataset)
        return message


def _generate(task: str, data_dir: Path, wanted: dict, seed: int, dataset: str = LRA) -> None:
    out = Path(data_dir) / "lra_release"
    small = sum(wanted.values()) <= 2000  # a second process costs more than it saves
    workers = 1 if small else None
    variant = check_dataset(task, dataset)
    if variant is not None:
        generate_variant(data_dir, variant, wanted, seed, workers=workers, progress=not small)
        return
    if task == "listops":
        from macformer.data.listops import generate_listops

        generate_listops(out, wanted["n_train"], wanted["n_val"], wanted["n_test"], seed=seed,
                         workers=workers, progress=not small)
    else:
        from macformer.data.pathfinder import generate_pathfinder

        generate_pathfinder(out, size=PATHFINDER_SIZES[task], difficulty="hard", count=wanted["count"],
                            seed=seed, workers=workers, progress=not small)
