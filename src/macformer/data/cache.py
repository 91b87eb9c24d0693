"""Processed splits cached as Arrow files under `<data_dir>/processed/`.

A split is built once from a `BuildPlan` and memory-mapped afterwards. The folder
name holds a key over everything that shapes the result (task, source split, reader
options, a fingerprint of the source files and the cache format), so regenerated
data or a changed option builds anew instead of serving a stale copy. Builds go to a
temporary folder that is renamed into place when complete, so an interrupted build
is never read. When a new build of the same split lands, older ones are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
from datasets.arrow_writer import ArrowWriter
from tqdm import tqdm

from .readers import ReadStats

CACHE_FORMAT = 1  # bump when the stored layout or the tokenisation changes
INFO_FILE = "info.json"
log = logging.getLogger("macformer.data")


@dataclass
class BuildPlan:
    """How to build one split: every job is a picklable callable (a partial of a
    reader) that takes `stats=` and yields column batches; one job per shard file."""

    task: str
    source_split: str  # the split of the source read (text val reads IMDb test)
    sources: list[Path]  # files / folders fingerprinted into the key
    options: dict
    features: datasets.Features
    jobs: list[Callable]
    total: int | None = None
    num_proc: int = 1
    fingerprint: str = field(default="")


def cache_key(plan: BuildPlan) -> str:
    fields = {
        "format": CACHE_FORMAT, "task": plan.task, "source_split": plan.source_split,
        "options": plan.options, "sources": plan.fingerprint,
        "features": plan.features.to_dict(),
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def cache_folder(data_dir, plan: BuildPlan) -> Path:
    return Path(data_dir) / "processed" / plan.task / f"{plan.source_split}-{cache_key(plan)}"


def load_or_build(data_dir, plan: BuildPlan, progress: bool = True) -> datasets.Dataset:
    folder = cache_folder(data_dir, plan)
    if not (folder / INFO_FILE).is_file():
        _build(folder, plan, progress)
        _remove_older(folder)
    info = json.loads((folder / INFO_FILE).read_text())
    if info["skipped"]:
        log.warning("%s %s: skipped %d unreadable item(s), e.g. %s", plan.task, plan.source_split,
                    info["skipped"], ", ".join(info["skipped_examples"]))
    shards = [datasets.Dataset.from_file(str(folder / name)) for name in info["shards"]]
    return shards[0] if len(shards) == 1 else datasets.concatenate_datasets(shards)


def _build(folder: Path, plan: BuildPlan, progress: bool):
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = [f"shard-{i:05d}.arrow" for i in range(len(plan.jobs))]
    stats, rows = ReadStats(), 0
    bar = tqdm(total=plan.total, unit="ex", desc=f"{plan.task} {plan.source_split}", disable=not progress)
    try:
        if plan.num_proc > 1 and len(plan.jobs) > 1:
            tasks = [(job, plan.features, str(tmp / name)) for job, name in zip(plan.jobs, names, strict=True)]
            with multiprocessing.get_context("spawn").Pool(min(plan.num_proc, len(tasks))) as pool:
                for shard_rows, shard_stats in pool.imap(_write_shard_job, tasks):
                    rows += shard_rows
                    stats.merge(shard_stats)
                    bar.update(shard_rows)
        else:
            for job, name in zip(plan.jobs, names, strict=True):
                shard_rows, shard_stats = write_shard(job, plan.features, tmp / name, bar.update)
                rows += shard_rows
                stats.merge(shard_stats)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    info = {"task": plan.task, "source_split": plan.source_split, "options": plan.options,
            "rows": rows, "skipped": stats.skipped, "skipped_examples": stats.examples, "shards": names}
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _write_shard_job(task):
    job, features, path = task
    return write_shard(job, features, Path(path))


def write_shard(job: Callable, features: datasets.Features, path: Path, on_rows=None):
    """Run one reader job and write its batches to one Arrow file."""
    stats = ReadStats()
    rows = 0
    writer = ArrowWriter(features=features, path=str(path))
    try:
        for batch in job(stats=stats):
            writer.write_table(_table(batch, features))
            n = len(batch["label"])
            rows += n
            if on_rows:
                on_rows(n)
        writer.finalize()
    finally:
        writer.close()
    return rows, stats


def _table(batch: dict, features: datasets.Features) -> pa.Table:
    """Columns to Arrow without a Python loop over tokens."""
    columns = {}
    for name in features:
        values = batch[name]
        if name == "label":
            columns[name] = pa.array(np.asarray(values, dtype=np.int64))
        else:
            lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
            offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
            flat = np.concatenate(values).astype(np.uint16) if values else np.zeros(0, np.uint16)
            columns[name] = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    return pa.table(columns, schema=features.arrow_schema)


def _remove_older(folder: Path):
    """Drop other builds of the same split (older sources or options)."""
    prefix = folder.name.rsplit("-", 1)[0] + "-"
    for other in folder.parent.iterdir():
        if other != folder and other.name.startswith(prefix) and (other / INFO_FILE).is_file():
            shutil.rmtree(other, ignore_errors=True)
