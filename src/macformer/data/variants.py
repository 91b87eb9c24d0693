"""Datasets other than LRA's own: reduced generated sets for CPU profiles, the smoke
profile's tiny sets, and the padded length a run's batches have.

A task's data is `lra` (the release, or a set generated with LRA's law and sizes, in
the release's layout) unless a variant is named. A variant is generated with its own
options into `<data_dir>/generated/<name>/`, never into an LRA folder, and runs on it
record the variant's name: a result on a reduced set can never pass for an LRA one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .tasks import DataError, task_spec

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
        # The smoke profile's sets: LRA's own generators and options at a few dozen
        # examples (generate.* of conf/profile/smoke.yaml), for checking the wiring only.
        DatasetVariant("listops-smoke", "listops", "ListOps, LRA's law, a few dozen trees (smoke check)",
                       seq_len=2048),
        DatasetVariant("pathfinder-smoke", "pathfinder", "Pathfinder 32×32 hard, a few dozen images (smoke check)",
                       seq_len=1024, generator={"size": 32, "difficulty": "hard"}),
        DatasetVariant("pathx-smoke", "pathx", "Path-X 128×128 hard, a few dozen images (smoke check)",
                       seq_len=16384, generator={"size": 128, "difficulty": "hard"}),
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


def padded_length(task: str, dataset: str = LRA, max_length: int | None = None) -> int:
    """The length every batch of the run is padded (and cut) to, hence the model's number of
    positions: `max_length` when set (data.max_length), else the data set's own length (a
    reduced set's, or the task's LRA length). The one formula for it."""
    if max_length is not None:
        return int(max_length)
    variant = check_dataset(task, dataset)
    return variant.seq_len if variant is not None else task_spec(task).seq_len
