"""The LRA data layer: specs, readers, generators, cache and Lightning data modules.

    from macformer.data import build_dataset, LRADataModule, task_spec
    rows = build_dataset("listops", "train", "data")

Names are loaded on first use, so `python -m macformer.data.generators.pathfinder` and the
generator workers do not import Lightning or `datasets`.
"""

from importlib import import_module

from .tasks import (
    SPLITS,
    TASKS,
    DataError,
    MalformedDataError,
    MissingDataError,
    TaskSpec,
    task_spec,
)

_LAZY = {
    "build_dataset": ".build",
    "LRADataModule": ".datamodule",
    "data_status": ".status",
    "generate_listops": ".generators.listops",
    "generate_pathfinder": ".generators.pathfinder",
}

__all__ = ["TASKS", "SPLITS", "TaskSpec", "task_spec", "DataError", "MissingDataError",
           "MalformedDataError", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
