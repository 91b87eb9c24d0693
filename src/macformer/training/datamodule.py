"""The data layer's LRADataModule, with a training loader that resumes exactly (see data_order.py).

Validation and test loaders are the data layer's own; only the training order is
replaced, by one that is a function of (seed, step) and shards itself under DDP.
"""

from __future__ import annotations

from collections import Counter

import pytorch_lightning as pl

from .data_order import ResumableLoader
from .outcome import RunError


class EmptySplit(RunError):
    """A split (after the profile's limits) has no examples."""


def _sources(inner, split: str) -> str:
    """The files a split is built from, for messages (the data layer's build plan)."""
    try:
        from macformer.data.build import _PLANNERS

        plan = _PLANNERS[inner.task](inner.data_dir, split, inner.spec, skip_malformed=False, download=False)
        return ", ".join(str(path) for path in plan.sources)
    except Exception:  # noqa: BLE001  (only for the message: fall back to the folder)
        return str(inner.data_dir)


class ResumableDataModule(pl.LightningDataModule):
    def __init__(self, inner: pl.LightningDataModule, seed: int):
        super().__init__()
        self.inner, self.seed = inner, seed

    def prepare_data(self):
        self.inner.prepare_data()

    def setup(self, stage: str | None = None):
        self.inner.trainer = self.trainer
        self.inner.setup(stage)

    def check_splits(self) -> dict:
        """Load every split now, before training: fail on an empty one, naming its source;
        return the test split's size and chance accuracy (its most frequent label)."""
        self.inner.setup()
        for split, rows in self.inner.splits.items():
            if len(rows) == 0:
                raise EmptySplit(f"the {split} split of {self.inner.task} has no examples (source: "
                                 f"{_sources(self.inner, split)}); regenerate or re-fetch it (`make data`)")
        labels = self.inner.splits["test"].rows["label"].to_pylist()
        counts = Counter(labels)
        return {"test_examples": len(labels), "chance_accuracy": max(counts.values()) / len(labels)}

    def train_dataloader(self):
        loader = self.inner.train_dataloader()
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        return ResumableLoader(loader.dataset, loader.batch_size, loader.collate_fn, self.seed,
                               num_workers=loader.num_workers, rank=rank, world_size=world,
                               trainer=trainer, pin_memory=loader.pin_memory)

    def val_dataloader(self):
        return self.inner.val_dataloader()

    def test_dataloader(self):
        return self.inner.test_dataloader()

    def teardown(self, stage: str | None = None):
        self.inner.teardown(stage)
