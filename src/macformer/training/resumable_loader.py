"""Training batches whose order depends only on (seed, step), so a resumed run sees the same batches.

`ResumableDataModule` wraps the data layer's LRADataModule and replaces only its
training loader. Epoch e is the permutation drawn from a generator seeded with
(seed, e); under DDP each process takes every world_size-th index of it (padded to
divide evenly, as DistributedSampler does). When a run resumes at global step s, the
loader starts at epoch s // len and skips s % len batches, so the data after resuming
is what the uninterrupted run would have seen. Lightning treats the loader as
resumable because it has `state_dict` / `load_state_dict`.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class EpochPermutation(Sampler[int]):
    def __init__(self, size: int, seed: int, rank: int = 0, world_size: int = 1):
        self.size, self.seed, self.rank, self.world_size = size, seed, rank, world_size
        self.per_rank = math.ceil(size / world_size)
        self.epoch, self.skip_samples = 0, 0

    def generator(self, epoch: int) -> torch.Generator:
        """Epoch `epoch`'s own generator, a function of (seed, epoch)."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)

    def indices(self, epoch: int) -> list[int]:
        order = torch.randperm(self.size, generator=self.generator(epoch)).tolist()
        order += order[: self.per_rank * self.world_size - self.size]  # pad to divide evenly
        return order[self.rank :: self.world_size]

    def __iter__(self):
        return iter(self.indices(self.epoch)[self.skip_samples :])

    def __len__(self) -> int:
        return self.per_rank - self.skip_samples


class ResumableLoader:
    """Iterates batches for the training loop; position comes from the trainer's global step."""

    def __init__(self, dataset: Dataset, batch_size: int, collate_fn, seed: int, num_workers: int = 0,
                 rank: int = 0, world_size: int = 1, trainer=None, pin_memory: bool = False):
        self.dataset, self.batch_size, self.collate_fn = dataset, batch_size, collate_fn
        self.num_workers, self.pin_memory, self.trainer = num_workers, pin_memory, trainer
        self.sampler = EpochPermutation(len(dataset), seed, rank, world_size)
        self.batches_per_epoch = math.ceil(self.sampler.per_rank / batch_size)
        self._position = 0  # batches consumed before the next __iter__ (trainer-less use)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def _start(self) -> int:
        if self.trainer is not None:
            # One optimiser step per batch (no gradient accumulation): steps = batches consumed.
            return int(self.trainer.global_step)
        return self._position

    def __iter__(self):
        position = self._start()
        epoch, skip = divmod(position, self.batches_per_epoch)
        self.sampler.epoch, self.sampler.skip_samples = epoch, skip * self.batch_size
        self._position = (epoch + 1) * self.batches_per_epoch
        # A DataLoader draws its workers' base seed from `generator`, else from the global
        # generator: the epoch's own keeps the global stream (dropout) untouched by the
        # start of an epoch, so a run resumed on an epoch boundary draws what the
        # uninterrupted run drew.
        loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=self.sampler,
                            collate_fn=self.collate_fn, num_workers=self.num_workers,
                            pin_memory=self.pin_memory, persistent_workers=False,
                            generator=self.sampler.generator(epoch))
        yield from loader

    # Lightning's resumable-loader protocol. The position itself is recomputed from the
    # restored global step, so the state only records it for inspection.
    def state_dict(self) -> dict:
        return {"global_step": self._start(), "seed": self.sampler.seed}

    def load_state_dict(self, state_dict: dict) -> None:
        self._position = int(state_dict.get("global_step", 0))


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
