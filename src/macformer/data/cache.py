"""Processed splits cached as Arrow files under `<data_dir>/processed/`.

A split is built once from a `BuildPlan` and memory-mapped afterwards. The folder
name holds a key over everything that shapes the result (task, source split, reader
options, a fingerprint of the source files and the cache format), so regenerated
data or a changed option builds anew instead of serving a stale copy. Builds go to a
temporary folder that is renamed into place when complete, so an interrupted build
is never read. When a new build of the same split lands, older ones are removed.

`info.json` records a SHA-256 of every shard; a cache is checked against it before
it is served (once per process while the file stays untouched: about 0.2 s for the
200 MB of ListOps' training split), and a shard changed on disk since its build is
rebuilt with a warning. A build that yields no rows is refused, not cached.
"""

from __future__ import annotations

import fcntl
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
from .tasks import DataError, MalformedDataError

CACHE_FORMAT = 2  # bump when the stored layout or the tokenisation changes (2: shard checksums)
INFO_FILE = "info.json"
log = logging.getLogger("macformer.data")
_verified: dict[str, tuple] = {}  # shard path -> its stat when its checksum last matched


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
    info, problem = _checked_info(folder)
    if problem:
        log.warning("%s; rebuilding %s %s", problem, plan.task, plan.source_split)
    if info is None:
        try:
            _build(folder, plan, progress)
        except OSError as error:
            if not problem or isinstance(error, DataError):
                raise
            raise DataError(f"{problem}, and rebuilding it failed ({error}); "
                            f"delete {folder} and run again") from error
        _remove_older(folder)
        info = json.loads((folder / INFO_FILE).read_text())
    if info["skipped"]:
        log.warning("%s %s: skipped %d unreadable item(s), e.g. %s", plan.task, plan.source_split,
                    info["skipped"], ", ".join(info["skipped_examples"]))
    shards = [datasets.Dataset.from_file(str(folder / name)) for name in info["shards"]]
    return shards[0] if len(shards) == 1 else datasets.concatenate_datasets(shards)


def _checked_info(folder: Path) -> tuple[dict | None, str | None]:
    """(info, None) for a cache whose shards match their checksums; (None, None)
    when there is no cache; (None, what is wrong) otherwise."""
    info_file = folder / INFO_FILE
    if not info_file.is_file():
        return None, None
    try:
        info = json.loads(info_file.read_text())
        shards, checksums = list(info["shards"]), dict(info["sha256"])
    except (ValueError, KeyError, TypeError) as error:
        return None, f"{info_file} is unreadable ({type(error).__name__}: {error})"
    for name in shards:
        path = folder / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None, f"{path} is missing"
        signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        if _verified.get(str(path)) == signature:
            continue
        if file_checksum(path) != checksums.get(name):
            return None, f"{path} does not match the checksum recorded when it was built (it was changed on disk)"
        _verified[str(path)] = signature
    return info, None


def file_checksum(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
    if rows == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MalformedDataError(_no_examples(plan, stats))
    info = {"task": plan.task, "source_split": plan.source_split, "options": plan.options,
            "rows": rows, "skipped": stats.skipped, "skipped_examples": stats.examples, "shards": names,
            "sha256": {name: file_checksum(tmp / name) for name in names}}
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
    # Finishing is serialised between processes: a parallel job (e.g. a joblib sweep) that
    # finished the same build (same key) first may be reading it, so it is kept, never
    # deleted under that job's feet; only a stale or broken build is replaced.
    with open(folder.with_name(f".{folder.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _checked_info(folder)[0] is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    for name in names:  # just hashed: no need to hash again in this process
        stat = (folder / name).stat()
        _verified[str(folder / name)] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _no_examples(plan: BuildPlan, stats: ReadStats) -> str:
    source = plan.sources[0] if plan.sources else plan.task
    message = f"no examples in {source} ({plan.task} {plan.source_split} split)"
    if stats.skipped:
        message += f": all {stats.skipped} item(s) were skipped as unreadable or malformed, e.g. {stats.examples[0]}"
    return message + "; a split needs at least one example: regenerate or re-download the source"


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
