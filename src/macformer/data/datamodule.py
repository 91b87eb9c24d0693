"""`LRADataModule`: padded batches of one LRA task for Lightning.

Every batch is padded to the same length L (the task's length, or `max_length`):
the model has learned positions of that length, as in LRA. Batches are dicts of
`input_ids` [B, L] long, `attention_mask` [B, L] bool (True = real token) and
`label` [B] long; retrieval adds `input_ids_pair` and `attention_mask_pair`.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from .build import build_dataset
from .task_shape import TaskShape
from .tasks import PAD_ID, SPLITS, DataError, task_spec
from .variants import LRA, check_dataset

log = logging.getLogger(__name__)
# max_length may cut a few outliers; cutting more than this share of the training
# examples changes the task, so the run says so (once, before training).
TRUNCATION_WARN_SHARE = 0.01


class EmptySplitError(DataError):
    """A split (after the run's limits) has no examples."""


class _ArrowSplit(Dataset):
    """Rows of a built split, fetched a batch at a time (`__getitems__`)."""

    def __init__(self, rows, columns):
        self.rows = rows.select_columns(columns).with_format("arrow")

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.__getitems__([index])

    def __getitems__(self, indices):
        return self.rows[list(indices)]  # a pyarrow.Table


def pad_ids(column: pa.ChunkedArray | pa.ListArray, length: int):
    """Unpadded id lists -> ids [B, length] long and mask [B, length] bool, cut at
    `length`."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    offsets = column.offsets.to_numpy().astype(np.int64)
    values = column.values.to_numpy(zero_copy_only=False)
    starts, lengths = offsets[:-1], np.minimum(np.diff(offsets), length)
    positions = np.arange(length)
    mask = positions[None, :] < lengths[:, None]
    ids = np.full((len(lengths), length), PAD_ID, dtype=np.int64)
    ids[mask] = values[(starts[:, None] + positions[None, :])[mask]]
    return torch.from_numpy(ids), torch.from_numpy(mask)


class PadToLength:
    """Collate an Arrow batch of rows into padded tensors (picklable for workers)."""

    def __init__(self, length: int, is_pair: bool):
        self.length, self.is_pair = length, is_pair

    def __call__(self, table: pa.Table) -> dict[str, torch.Tensor]:
        if isinstance(table, list):  # a sampler that fetched rows one by one
            table = pa.concat_tables(table)
        batch = {}
        batch["input_ids"], batch["attention_mask"] = pad_ids(table.column("input_ids"), self.length)
        if self.is_pair:
            batch["input_ids_pair"], batch["attention_mask_pair"] = pad_ids(
                table.column("input_ids_pair"), self.length)
        batch["label"] = torch.from_numpy(table.column("label").to_numpy().astype(np.int64))
        return batch


class LRADataModule(TaskShape, pl.LightningDataModule):
    """One LRA task as train / val / test loaders.

    max_length: pad and cut to this length instead of the task's (small profiles).
    limit_train / limit_eval: keep the first N rows of train / of val and test;
    limit_val: of val only (overrides limit_eval there).
    seed: the order of the shuffled train loader (val and test are not shuffled).
    dataset: "lra", or a reduced generated variant (macformer.data.variants).
    test_drop_last, listops_closing_tokens: the authors' protocol (their test loader
    dropped the last partial batch; their ListOps data had no `]` tokens).
    """

    def __init__(self, task: str, data_dir="data", batch_size: int = 32, num_workers: int = 0,
                 seed: int = 0, max_length: int | None = None, limit_train: int | None = None,
                 limit_eval: int | None = None, limit_val: int | None = None, dataset: str = LRA,
                 test_drop_last: bool = False, listops_closing_tokens: bool = True):
        super().__init__()
        self.spec = task_spec(task)
        self.variant = check_dataset(task, dataset)
        self.task, self.data_dir, self.dataset = task, data_dir, dataset
        self.batch_size, self.num_workers, self.seed = batch_size, num_workers, seed
        self.max_length, self.limit_train, self.limit_eval = max_length, limit_train, limit_eval
        self.limit_val, self.test_drop_last = limit_val, test_drop_last
        self.build_options = {"dataset": dataset, "listops_closing_tokens": listops_closing_tokens}
        self.splits: dict[str, _ArrowSplit] = {}

    def prepare_data(self):
        # Builds (or finds) the cached splits once, in one process.
        for split in SPLITS:
            build_dataset(self.task, split, self.data_dir, **self.build_options)

    def setup(self, stage: str | None = None):
        columns = ["input_ids", "input_ids_pair", "label"] if self.is_pair else ["input_ids", "label"]
        for split in SPLITS:
            if split in self.splits:
                continue
            rows = build_dataset(self.task, split, self.data_dir, progress=False, **self.build_options)
            limit = {"train": self.limit_train, "val": self.limit_val or self.limit_eval}.get(
                split, self.limit_eval)
            if limit is not None:
                rows = rows.select(range(min(limit, len(rows))))
            self.splits[split] = _ArrowSplit(rows, columns)

    def check_splits(self) -> dict:
        """Load every split now, before training: fail on an empty one, naming its source;
        return the test split's size, chance accuracy (its most frequent label) and sha256."""
        self.setup()
        for split, rows in self.splits.items():
            if len(rows) == 0:
                raise EmptySplitError(f"the {split} split of {self.task} has no examples (source: "
                                      f"{self._sources(split)}); regenerate or re-fetch it (`make data`)")
        self._warn_if_truncating()
        labels = self.splits["test"].rows["label"].to_pylist()
        return {"test_examples": len(labels), "chance_accuracy": max(Counter(labels).values()) / len(labels),
                "test_split_sha256": self.split_sha256("test")}

    def split_sha256(self, split: str) -> str:
        """The sha256 of a split's kept examples as the model reads them (each id list's
        length and ids, then the labels, column by column), so that a re-test can tell
        that it reads the same examples as the run it checks (macformer-evaluate)."""
        if split not in self.splits:
            self.setup()
        table = self.splits[split].rows[:]  # a pyarrow.Table of the kept rows
        digest = hashlib.sha256()
        for name in table.column_names:  # input_ids[, input_ids_pair], label
            column = table.column(name).combine_chunks()
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                digest.update(pc.list_value_length(column).to_numpy(zero_copy_only=False).astype("<i8").tobytes())
                column = column.flatten()  # the ids of the kept rows only (a slice's too)
            digest.update(column.to_numpy(zero_copy_only=False).astype("<i8").tobytes())
        return digest.hexdigest()

    def _warn_if_truncating(self) -> None:
        share = self.truncated_share("train")
        if share > TRUNCATION_WARN_SHARE:
            setting = f"data.max_length={self.max_length}" if self.max_length is not None else "the task's length"
            log.warning(f"{setting} cuts {100 * share:.1f}% of the {self.task} training examples "
                        f"(they are longer than {self.seq_len} tokens)")

    def truncated_share(self, split: str = "train") -> float:
        """Share of the split's examples longer than the padded length, which are cut
        (for a pair: either document)."""
        if split not in self.splits:
            self.setup()
        table = self.splits[split].rows[:]  # a pyarrow.Table of the kept rows (memory-mapped)
        if table.num_rows == 0:
            return 0.0
        longer = None
        for column in ("input_ids", "input_ids_pair") if self.is_pair else ("input_ids",):
            cut = pc.greater(pc.list_value_length(table.column(column)), self.seq_len)
            longer = cut if longer is None else pc.or_(longer, cut)
        return (pc.sum(longer).as_py() or 0) / table.num_rows

    def _sources(self, split: str) -> str:
        """The files a split is built from, for messages (the build plan)."""
        from .build import _PLANNERS

        try:
            plan = _PLANNERS[self.task](
                self.data_dir, split, self.spec, skip_malformed=False, download=False, variant=self.variant,
                closing_tokens=self.build_options["listops_closing_tokens"])
            return ", ".join(str(path) for path in plan.sources)
        except Exception:  # noqa: BLE001  (only for the message: fall back to the folder)
            return str(self.data_dir)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.splits:
            self.setup()
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            self.splits[split], batch_size=self.batch_size, shuffle=shuffle, generator=generator,
            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
            collate_fn=PadToLength(self.seq_len, self.is_pair),
            drop_last=split == "test" and self.test_drop_last,
        )

    def train_dataloader(self):
        return self._loader("train", shuffle=True)

    def val_dataloader(self):
        return self._loader("val", shuffle=False)

    def test_dataloader(self):
        return self._loader("test", shuffle=False)
