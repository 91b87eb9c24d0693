"""`build_dataset(task, split, data_dir)`: the tokenised split of one LRA task,
read from the sources under data_dir and cached under data_dir/processed/."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import datasets

from .cache import BuildPlan, load_or_build
from .readers import aan_tsv, hub, listops_tsv, pathfinder_images
from .release import (
    LRA_ARCHIVE_URL,
    LRA_FOLDERS,
    PATHFINDER_HARD,
    fingerprint,
    require_file,
    require_release_folder,
)
from .tasks import MissingDataError, check_split, task_spec
from .variants import LRA, check_dataset, variant_folder

PATHFINDER_SPLIT_SEED = 0  # the seeded 80/10/10 split of Pathfinder and Path-X
PATHFINDER_FOLDERS = {"pathfinder": ("pathfinder32", 32), "pathx": ("pathfinder128", 128)}
RETRIEVAL_FILES = {"train": "train", "val": "eval", "test": "test"}
IMAGE_TRAIN_FRACTION = 0.9  # CIFAR-10 train[:90%] / train[90%:]
ROWS_PER_JOB = 5000  # rows of a hub split per shard
IMAGES_PER_JOB = 2000
PARALLEL_FROM = 4000  # fewer images than this are read in-process


def _features(pair: bool = False) -> datasets.Features:
    columns = {"input_ids": datasets.List(datasets.Value("uint16"))}
    if pair:
        columns["input_ids_pair"] = datasets.List(datasets.Value("uint16"))
    columns["label"] = datasets.Value("int64")
    return datasets.Features(columns)


def default_num_proc() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def build_dataset(
    task: str, split: str, data_dir="data", *, skip_malformed: bool = False,
    num_proc: int | None = None, download: bool = True, progress: bool = True,
    dataset: str = LRA, listops_closing_tokens: bool = True,
) -> datasets.Dataset:
    """Columns `input_ids` (unpadded uint16 ids, 0 reserved for padding) and `label`;
    retrieval also `input_ids_pair`. Built once, then read from the cache.

    skip_malformed: skip (and count) malformed TSV rows instead of failing.
    download: fetch IMDb / CIFAR-10 from the hub when they are not saved yet.
    dataset: "lra", or a reduced generated variant (macformer.data.variants).
    listops_closing_tokens: False drops ListOps' `]` tokens (the Skyformer port's data).
    """
    spec = task_spec(task)
    check_split(split)
    variant = check_dataset(task, dataset)
    plan = _PLANNERS[task](Path(data_dir), split, spec, skip_malformed=skip_malformed, download=download,
                           variant=variant, closing_tokens=listops_closing_tokens)
    plan.num_proc = num_proc or (default_num_proc() if plan.num_proc > 1 else 1)
    plan.fingerprint = fingerprint(plan.sources)
    return load_or_build(data_dir, plan, progress=progress)


def _listops_plan(data_dir, split, spec, *, skip_malformed, variant, closing_tokens, **_):
    if variant is None:
        how = (f"generate it with `python -m macformer.data.generators.listops --out {data_dir}/lra_release` "
               f"(or `make data`), or unpack the LRA release ({LRA_ARCHIVE_URL}) under {data_dir}/lra_release")
        folder = require_release_folder(data_dir, LRA_FOLDERS["listops"], how)
    else:
        folder = variant_folder(data_dir, variant.name)
        how = f"a training run with data.dataset={variant.name} generates it ({variant.description})"
    path = require_file(folder / f"basic_{split}.tsv", how)
    options = {"max_tokens": spec.max_tokens, "skip_malformed": skip_malformed}
    if not closing_tokens:
        options["closing_tokens"] = False  # only when set, so LRA caches keep their keys
    return BuildPlan(
        task="listops", source_split=split, sources=[path], options=options,
        features=_features(),
        jobs=[partial(listops_tsv.read_listops, path, spec.max_tokens, skip_malformed=skip_malformed,
                      closing_tokens=closing_tokens)],
    )


def _retrieval_plan(data_dir, split, spec, *, skip_malformed, download, **_):
    how = (f"download and unpack the LRA release ({LRA_ARCHIVE_URL}) under {data_dir}/lra_release, "
           f"e.g. `python -m macformer.data.prepare --data-dir {data_dir} --only retrieval`")
    folder = require_release_folder(data_dir, "tsv_data", how)
    path = require_file(folder / f"new_aan_pairs.{RETRIEVAL_FILES[split]}.tsv", how)
    return BuildPlan(
        task="retrieval", source_split=split, sources=[path],
        options={"max_tokens": spec.max_tokens, "raw_bytes": aan_tsv.RAW_TEXT_BYTES,
                 "skip_malformed": skip_malformed},
        features=_features(pair=True),
        jobs=[partial(aan_tsv.read_aan, path, spec.max_tokens, skip_malformed=skip_malformed)],
    )


def _row_ranges(start: int, stop: int) -> list[tuple[int, int]]:
    return [(a, min(a + ROWS_PER_JOB, stop)) for a in range(start, stop, ROWS_PER_JOB)] or [(start, start)]


def _text_plan(data_dir, split, spec, *, skip_malformed, download, **_):
    # LRA evaluates Text on the IMDb test split: val and test are the same rows.
    source = "train" if split == "train" else "test"
    rows = hub.load_hub_split(data_dir, "imdb", source, download=download)
    return BuildPlan(
        task="text", source_split=source, sources=[hub.hub_folder(data_dir, "imdb")],
        options={"max_tokens": spec.max_tokens},
        features=_features(),
        jobs=[partial(hub.read_text, data_dir, source, a, b, spec.max_tokens) for a, b in _row_ranges(0, len(rows))],
        total=len(rows), num_proc=2,
    )


def _image_plan(data_dir, split, spec, *, skip_malformed, download, **_):
    source = "test" if split == "test" else "train"
    rows = hub.load_hub_split(data_dir, "cifar10", source, download=download)
    cut = int(len(rows) * IMAGE_TRAIN_FRACTION)
    start, stop = {"train": (0, cut), "val": (cut, len(rows)), "test": (0, len(rows))}[split]
    return BuildPlan(
        task="image", source_split=split, sources=[hub.hub_folder(data_dir, "cifar10")],
        options={"rows": [start, stop], "grayscale": "ITU-R 601-2 luma"},
        features=_features(),
        jobs=[partial(hub.read_image, data_dir, source, a, b) for a, b in _row_ranges(start, stop)],
        total=stop - start, num_proc=2,
    )


def _pathfinder_plan(data_dir, split, spec, *, skip_malformed, download, variant=None,
                     task="pathfinder", **_):
    name, side = PATHFINDER_FOLDERS[task]
    if variant is not None:
        side = int(variant.generator["size"])
        how = f"a training run with data.dataset={variant.name} generates it ({variant.description})"
    elif task == "pathfinder":
        how = (f"generate it with `python -m macformer.data.generators.pathfinder --out {data_dir}/lra_release "
               f"--size 32 --difficulty hard` (or `make data`), or unpack the LRA release ({LRA_ARCHIVE_URL})")
    else:
        how = (f"download and unpack the LRA release ({LRA_ARCHIVE_URL}) under {data_dir}/lra_release "
               f"(`python -m macformer.data.prepare --data-dir {data_dir} --only pathx`), or generate it with "
               f"`python -m macformer.data.generators.pathfinder --out {data_dir}/lra_release --size 128 --difficulty hard`")
    if variant is None:
        folder = require_release_folder(data_dir, f"{name}/{PATHFINDER_HARD}", how)
    else:
        folder = variant_folder(data_dir, variant.name)
        if not folder.is_dir():
            raise MissingDataError(f"missing {folder}; {how}")
    if not pathfinder_images.metadata_files(folder):
        raise MissingDataError(f"no metadata/*.npy files in {folder}; {how}")
    entries = pathfinder_images.split_entries(
        pathfinder_images.read_entries(folder), split, PATHFINDER_SPLIT_SEED)
    chunks = [entries[a : a + IMAGES_PER_JOB] for a in range(0, len(entries), IMAGES_PER_JOB)] or [[]]
    return BuildPlan(
        # The key covers the metadata and every image of this split (a restored or
        # replaced image must rebuild the split).
        task=task, source_split=split, sources=[folder / "metadata", *(f"{folder}/{rel}" for rel, _ in entries)],
        options={"split_seed": PATHFINDER_SPLIT_SEED, "side": side},
        features=_features(),
        jobs=[partial(pathfinder_images.read_images, folder, chunk, side) for chunk in chunks],
        total=len(entries), num_proc=2 if len(entries) >= PARALLEL_FROM else 1,
    )


_PLANNERS = {
    "listops": _listops_plan,
    "text": _text_plan,
    "retrieval": _retrieval_plan,
    "image": _image_plan,
    "pathfinder": _pathfinder_plan,
    "pathx": partial(_pathfinder_plan, task="pathx"),
}
