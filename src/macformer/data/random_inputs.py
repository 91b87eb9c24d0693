"""`RandomInputs`: batches of random tokens with a task's shape, for timing runs only.

A run's speed depends on the shape of its batches (padded length, batch size, pairing),
its vocabulary and classes (the embedding and the head), never on which tokens they hold.
The reproduce driver's calibration therefore times a shape on these when the task's data
is not on disk yet, instead of generating or downloading it first (an hour or more at LRA's
sizes). It is selected by the override `data._target_=macformer.data.random_inputs.RandomInputs`
(the calibration's only); it takes LRADataModule's settings, reads and writes no file, and
its split sizes are the data's own (`split_sizes`), so that a validation and the test take
as long as they will on the real data. Every sequence fills the padded length (no padding).
Results of a run on it mean nothing, and nothing but a calibration uses it.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from .task_shape import TaskShape
from .tasks import SPLITS, task_spec
from .variants import check_dataset

TARGET = f"{__name__}.RandomInputs"

# LRA's split sizes (train, val, test) of the tasks that are not generated; generated tasks
# take theirs from the profile's `generate` sizes (split_sizes).
LRA_SPLITS = {"text": (25_000, 25_000, 25_000), "retrieval": (147_086, 18_090, 17_437),
              "image": (45_000, 5_000, 10_000)}
PATHFINDER_FRACTIONS = (0.8, 0.1, 0.1)  # as data/readers/pathfinder_images.py splits a set


def split_sizes(cfg) -> dict[str, int]:
    """The examples each split of `cfg`'s run holds: the data's own sizes, after the run's
    limits (data.limit_train, limit_val, limit_eval), as LRADataModule.setup keeps them."""
    task = cfg.task.name
    if task == "listops":
        sizes = (int(cfg.generate.listops.n_train), int(cfg.generate.listops.n_val),
                 int(cfg.generate.listops.n_test))
    elif task in ("pathfinder", "pathx"):
        count = int(cfg.generate.pathfinder.count)
        sizes = tuple(max(1, int(count * f)) for f in PATHFINDER_FRACTIONS)
    else:
        sizes = LRA_SPLITS[task]
    limits = (cfg.data.limit_train, cfg.data.limit_val or cfg.data.limit_eval, cfg.data.limit_eval)
    return {split: min(size, int(limit)) if limit else size
            for split, size, limit in zip(SPLITS, sizes, limits, strict=True)}


class _Indices(Dataset):
    """Example i of a split is just i: the collate function draws the batch from the indices."""

    def __init__(self, size: int):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return index


class RandomBatch:
    """Collate indices into a batch of random tokens, a function of (seed, first index);
    picklable for loader workers."""

    def __init__(self, length: int, vocab_size: int, num_classes: int, is_pair: bool, seed: int):
        self.length, self.vocab_size, self.num_classes = length, vocab_size, num_classes
        self.is_pair, self.seed = is_pair, seed

    def __call__(self, indices) -> dict[str, torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + int(indices[0]))
        size = (len(indices), self.length)
        batch = {}
        for suffix in ("", "_pair") if self.is_pair else ("",):
            batch[f"input_ids{suffix}"] = torch.randint(1, self.vocab_size, size, generator=generator)
            batch[f"attention_mask{suffix}"] = torch.ones(size, dtype=torch.bool)
        batch["label"] = torch.randint(0, self.num_classes, (len(indices),), generator=generator)
        return batch


class RandomInputs(TaskShape, pl.LightningDataModule):
    """LRADataModule's interface (seq_len, vocab_size, num_classes, is_pair, check_splits,
    the three loaders) over random tokens. `limit_*` are the split sizes (split_sizes)."""

    def __init__(self, task: str, data_dir=None, batch_size: int = 32, num_workers: int = 0,
                 seed: int = 0, max_length: int | None = None, limit_train: int | None = None,
                 limit_eval: int | None = None, limit_val: int | None = None, dataset: str = "lra",
                 test_drop_last: bool = False, listops_closing_tokens: bool = True):
        super().__init__()
        self.spec = task_spec(task)
        check_dataset(task, dataset)
        self.task, self.dataset, self.max_length = task, dataset, max_length
        self.batch_size, self.num_workers, self.seed = batch_size, num_workers, seed
        self.test_drop_last = test_drop_last
        # A limit left unset: one batch (the calibration always sets the data's own sizes).
        self.sizes = {"train": limit_train or batch_size, "val": limit_val or limit_eval or batch_size,
                      "test": limit_eval or batch_size}

    def check_splits(self) -> dict:
        return {"test_examples": self.sizes["test"], "chance_accuracy": 1.0 / self.num_classes,
                "test_split_sha256": None}  # drawn anew from the seed: nothing to fingerprint

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        collate = RandomBatch(self.seq_len, self.vocab_size, self.num_classes, self.is_pair,
                              self.seed + SPLITS.index(split))
        return DataLoader(_Indices(self.sizes[split]), batch_size=self.batch_size, shuffle=shuffle,
                          generator=generator, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0, collate_fn=collate,
                          drop_last=split == "test" and self.test_drop_last)

    def train_dataloader(self):
        return self._loader("train", shuffle=True)

    def val_dataloader(self):
        return self._loader("val", shuffle=False)

    def test_dataloader(self):
        return self._loader("test", shuffle=False)
