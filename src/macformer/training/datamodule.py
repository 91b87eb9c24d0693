"""The data layer's LRADataModule, with a training loader that resumes exactly (see data_order.py).

Validation and test loaders are the data layer's own; only the training order is
replaced, by one that is a function of (seed, step) and shards itself under DDP.
"""

from __future__ import annotations

import pytorch_lightning as pl

from .data_order import ResumableLoader


class ResumableDataModule(pl.LightningDataModule):
    def __init__(self, inner: pl.LightningDataModule, seed: int):
        super().__init__()
        self.inner, self.seed = inner, seed

    def prepare_data(self):
        self.inner.prepare_data()

    def setup(self, stage: str | None = None):
        self.inner.trainer = self.trainer
        self.inner.setup(stage)

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
