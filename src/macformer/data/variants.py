"""Datasets other than LRA's own: reduced generated sets for CPU profiles.

A task's data is `lra` (the release, or a set generated with LRA's law and sizes, in
the release's layout) unless a variant is named. A variant is generated with its own
options into `<data_dir>/generated/<name>/`, never into an LRA folder, and runs on it
record the variant's name: a result on a reduced set can never pass for an LRA one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .tasks import DataError

LRA = "lra"
GENERATED_DIR = "generated"


@dataclass(frozen=True)
class DatasetVariant:
    name: str
    task: str
    description: str  # one line, for tables and logs
    seq_len: int  # the padded length that holds every example
    generator: dict = field(default_factory=dict)  # options of the task's generator


VARIANTS: dict[str, DatasetVariant] = {
    variant.name: variant for variant in (
        # LRA's tree law (depth ≤ 10, 2–10 arguments) with 50 < length < 250 instead of
        # 500 < length < 2000: shallower trees, learnable in CPU minutes.
        DatasetVariant("listops-short", "listops", "ListOps, LRA's law, 50 < length < 250 tokens",
                       seq_len=256, generator={"min_length": 50, "max_length": 250}),
        # 16×16 images (256 tokens, the whole image), two target contours of 2 paddles, no
        # distractors: the smallest scene that is still a connectivity task. It stays at
        # chance within the cpu budget too (Pathfinder needs far more steps; see the README).
        DatasetVariant("pathfinder16-cpu", "pathfinder",
                       "Pathfinder 16×16, contour length 2, no distractors",
                       seq_len=256, generator={"size": 16, "contour_length": 2, "distractors": 0}),
    )
}


def datasets_of(task: str) -> tuple[str, ...]:
    return (LRA, *(name for name, v in VARIANTS.items() if v.task == task))


def check_dataset(task: str, dataset: str) -> DatasetVariant | None:
    """None for LRA's data, else the variant; a name that does not fit the task is refused."""
    if dataset == LRA:
        return None
    variant = VARIANTS.get(dataset)
    if variant is None or variant.task != task:
        raise DataError(f"data.dataset={dataset!r} is not a dataset of task {task!r}; "
                        f"allowed values: {', '.join(datasets_of(task))}")
    return variant


def variant_folder(data_dir, dataset: str) -> Path:
    return Path(data_dir) / GENERATED_DIR / dataset


def generate_variant(data_dir, variant: DatasetVariant, sizes: dict, seed: int, *,
                     workers: int | None = None, progress: bool = True) -> Path:
    """Generate `variant` at `sizes` ({n_train, n_val, n_test} for ListOps, {count} for
    Pathfinder) into its folder and return the folder."""
    folder = variant_folder(data_dir, variant.name)
    if variant.task == "listops":
        from .listops import generate_listops

        return generate_listops(None, sizes["n_train"], sizes["n_val"], sizes["n_test"], seed=seed,
                                workers=workers, progress=progress, folder=folder, **variant.generator)
    from .pathfinder import generate_pathfinder

    return generate_pathfinder(folder=folder, count=sizes["count"], seed=seed, workers=workers,
                               progress=progress, **variant.generator)


MARKER = "GENERATED.json"
_SIZE_KEYS = {"n_train": "train", "n_val": "val", "n_test": "test", "count": "count"}


def is_complete(task: str, folder: Path) -> bool:
    """A generated set's files are all there (ListOps: the three TSVs; Pathfinder: metadata)."""
    if task == "listops":
        return all((folder / f"basic_{s}.tsv").is_file() for s in ("train", "val", "test"))
    return (folder / "metadata").is_dir() and any((folder / "metadata").glob("*.npy"))


def why_generate(data_dir, variant: DatasetVariant, sizes: dict, seed: int | None = None) -> str | None:
    """Why `variant` must be generated (again) before a run at `sizes` can use it; None when
    its folder holds a complete set made with its options, at least these sizes (and this
    seed, when given)."""
    folder = variant_folder(data_dir, variant.name)
    marker_path = folder / MARKER
    if not is_complete(variant.task, folder) or not marker_path.is_file():
        return f"no complete {variant.name} set in {folder}"
    try:
        marker = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        return f"{marker_path} cannot be read"
    changed = {k: v for k, v in variant.generator.items() if marker.get(k) != v}
    if changed:
        return f"{folder} was generated with other options than {changed}"
    small = {k: marker.get(_SIZE_KEYS[k]) for k, v in sizes.items() if int(marker.get(_SIZE_KEYS[k]) or 0) < v}
    if small:
        return f"{folder} was generated smaller ({small}) than wanted ({sizes})"
    if seed is not None and marker.get("seed") != seed:
        return f"{folder} was generated with seed {marker.get('seed')}, not {seed}"
    return None
