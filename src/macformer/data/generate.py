"""Generated data: where each generable set lives, when to (re)generate it, and doing so.

ListOps, Pathfinder and Path-X are synthetic in LRA itself. Their LRA-format sets live
in the release's layout under `<data_dir>/lra_release`; a reduced set (variants.py) under
`<data_dir>/generated/<name>`. One rule decides, for `make data` and for a run alike,
whether a set must be generated: it is missing or incomplete; it was generated with
other options, at a smaller size than wanted, or (when a seed is asked for) with another
seed. A release (no GENERATED.json marker) is never regenerated. A run generates what
it misses under a lock, so concurrent jobs make a set once.
"""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path

from .release import GENERATED_MARKER, LRA_FOLDERS, find_release_folder, release_roots
from .tasks import DataError
from .variants import LRA, check_dataset, variant_folder

log = logging.getLogger(__name__)

GENERABLE = ("listops", "pathfinder", "pathx")
PATHFINDER_SIZES = {"pathfinder": 32, "pathx": 128}
_MARKER_KEYS = {"n_train": "train", "n_val": "val", "n_test": "test", "count": "count"}


def generated_folder(task: str, data_dir, dataset: str = LRA) -> Path | None:
    """Where `task`'s generated `dataset` is (or goes); None for a task that is not generated."""
    if check_dataset(task, dataset) is not None:
        return variant_folder(data_dir, dataset)
    if task not in GENERABLE:
        return None
    return find_release_folder(data_dir, LRA_FOLDERS[task]) or Path(data_dir) / "lra_release" / LRA_FOLDERS[task]


def is_complete(task: str, folder: Path) -> bool:
    """A set's files are all there (ListOps: the three TSVs; Pathfinder: metadata)."""
    if task == "listops":
        return all((folder / f"basic_{s}.tsv").is_file() for s in ("train", "val", "test"))
    return (folder / "metadata").is_dir() and any((folder / "metadata").glob("*.npy"))


def why_generate(task: str, data_dir, sizes: dict, dataset: str = LRA, seed: int | None = None) -> str | None:
    """Why `task`'s `dataset` must be generated (again) for `sizes` ({n_train, n_val, n_test}
    for ListOps, {count} for Pathfinder); None when it can be used as it is."""
    variant = check_dataset(task, dataset)
    folders = ([variant_folder(data_dir, dataset)] if variant is not None
               else [root / LRA_FOLDERS[task] for root in release_roots(data_dir)])
    present = [f for f in folders if is_complete(task, f)]
    if not present:
        return f"no complete {task} set ({dataset}) in {folders[0]}"
    marker_path = present[0] / GENERATED_MARKER
    if not marker_path.is_file():
        return None if variant is None else f"{present[0]} has no {GENERATED_MARKER}"
    try:
        marker = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        return f"{marker_path} cannot be read"
    changed = {k: v for k, v in (variant.generator if variant else {}).items() if marker.get(k) != v}
    if changed:
        return f"{present[0]} was generated with other options than {changed}"
    small = {k: marker.get(_MARKER_KEYS[k]) for k, v in sizes.items()
             if int(marker.get(_MARKER_KEYS[k]) or 0) < v}
    if small:
        return f"{present[0]} was generated at a smaller size ({small}) than wanted ({sizes})"
    if seed is not None and marker.get("seed") != seed:
        return f"{present[0]} was generated with seed {marker.get('seed')}, not {seed}"
    return None


def generate(task: str, data_dir, sizes: dict, seed: int, dataset: str = LRA, *,
             workers: int | None = None, progress: bool = True) -> Path:
    """Generate `task`'s `dataset` at `sizes` into its folder and return the folder."""
    variant = check_dataset(task, dataset)
    options = dict(variant.generator) if variant is not None else {}
    folder = variant_folder(data_dir, dataset) if variant is not None else None
    if task == "listops":
        from .generators.listops import generate_listops

        out = None if folder else Path(data_dir) / "lra_release"
        return generate_listops(out, sizes["n_train"], sizes["n_val"], sizes["n_test"], seed=seed,
                                workers=workers, progress=progress, folder=folder, **options)
    from .generators.pathfinder import generate_pathfinder

    if folder is None:
        return generate_pathfinder(Path(data_dir) / "lra_release", size=PATHFINDER_SIZES[task],
                                   difficulty="hard", count=sizes["count"], seed=seed,
                                   workers=workers, progress=progress)
    return generate_pathfinder(folder=folder, count=sizes["count"], seed=seed, workers=workers,
                               progress=progress, **options)


def ensure_generated(task: str, data_dir, sizes: dict, seed: int, dataset: str = LRA) -> str | None:
    """Generate `task`'s `dataset` when why_generate says so (any seed will do: whichever
    made it); return what was done, or None. Checked first without the lock, so that a
    read-only data folder that holds the data works."""
    data_dir = Path(data_dir)
    if generated_folder(task, data_dir, dataset) is None or why_generate(task, data_dir, sizes, dataset) is None:
        return None
    lock = data_dir / f".generate-{task}.lock"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "w")  # flock'ed while generating; closing the file releases it
    except OSError as error:
        raise DataError(f"cannot generate {task} data into {data_dir}: {lock} cannot be created "
                        f"({error.strerror}); make {data_dir} writable, or point paths.data_dir at "
                        f"a folder that holds the data (`make data` writes it)") from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        reason = why_generate(task, data_dir, sizes, dataset)  # another job may have made it
        if reason is None:
            return None
        message = f"{reason}: generating {task} ({dataset}, {sizes}, seed {seed})"
        log.info(message)
        small = sum(sizes.values()) <= 2000  # a second process costs more than it saves
        folder = generate(task, data_dir, sizes, seed, dataset, workers=1 if small else None,
                          progress=not small)
        return f"{message} into {folder}"


def generate_missing(cfg) -> str | None:
    """For a run's config: its ListOps / Pathfinder / Path-X at the profile's sizes
    (`generate.*`) when missing; return what was done, or None."""
    from .random_inputs import TARGET as RANDOM_INPUTS  # imports Lightning: only when a run asks

    task = cfg.task.name
    if task not in GENERABLE or cfg.data.get("_target_") == RANDOM_INPUTS:
        return None  # the data module reports missing files itself (random inputs need none)
    sizes = dict(cfg.generate.listops if task == "listops" else cfg.generate.pathfinder)
    return ensure_generated(task, cfg.paths.data_dir, {k: int(v) for k, v in sizes.items()},
                            int(cfg.generate.seed), cfg.data.dataset)
