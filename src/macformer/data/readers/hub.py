"""IMDb and CIFAR-10 as `datasets` DatasetDicts saved under `<data_dir>/imdb` and
`<data_dir>/cifar10` (the hub's features). When a folder is absent it is fetched
from the hub once and saved there; offline, a clear error says what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tasks import MalformedDataError, MissingDataError
from .stats import ReadStats
from .tokens import byte_ids, pixel_ids

HUB_SOURCES = {
    # folder: (hub id, columns, splits)
    "imdb": ("stanfordnlp/imdb", ("text", "label"), ("train", "test")),
    "cifar10": ("uoft-cs/cifar10", ("img", "label"), ("train", "test")),
}
BATCH = 1000


def hub_folder(data_dir, name: str) -> Path:
    return Path(data_dir) / name


def is_saved(data_dir, name: str) -> bool:
    return (hub_folder(data_dir, name) / "dataset_dict.json").is_file()


def fetch_command(data_dir, name: str) -> str:
    return (f"python -m macformer.data.prepare --data-dir {data_dir} --only {name} (needs network), "
            f"or save a DatasetDict of {HUB_SOURCES[name][0]} with save_to_disk at {hub_folder(data_dir, name)}")


def fetch_hub_dataset(data_dir, name: str) -> Path:
    """Download `name` from the hub and save it under data_dir; clear error offline."""
    import datasets

    hub_id = HUB_SOURCES[name][0]
    try:
        dataset = datasets.load_dataset(hub_id)
    except Exception as error:  # offline, hub down, no credentials: all mean "not here"
        raise MissingDataError(
            f"could not load {hub_id} from the Hugging Face hub ({type(error).__name__}: {error}). "
            f"Run `make data` on a machine with network and copy {hub_folder(data_dir, name)} here, "
            f"or save a DatasetDict with columns {HUB_SOURCES[name][1]} there with save_to_disk"
        ) from error
    folder = hub_folder(data_dir, name)
    keep = {split: dataset[split] for split in HUB_SOURCES[name][2]}
    datasets.DatasetDict(keep).save_to_disk(str(folder))
    return folder


def load_hub_split(data_dir, name: str, split: str, download: bool = True):
    """One split of the saved DatasetDict `name` (fetching it first if allowed)."""
    import datasets

    if not is_saved(data_dir, name):
        if not download:
            raise MissingDataError(f"missing {hub_folder(data_dir, name)}; {fetch_command(data_dir, name)}")
        fetch_hub_dataset(data_dir, name)
    folder = hub_folder(data_dir, name)
    saved = datasets.load_from_disk(str(folder))
    _, columns, splits = HUB_SOURCES[name]
    if not isinstance(saved, datasets.DatasetDict) or split not in saved:
        have = list(saved.keys()) if isinstance(saved, datasets.DatasetDict) else "a single Dataset"
        raise MalformedDataError(f"{folder}: expected a DatasetDict with splits {splits}, found {have}")
    missing = [c for c in columns if c not in saved[split].column_names]
    if missing:
        raise MalformedDataError(f"{folder}/{split}: missing columns {missing}; has {saved[split].column_names}")
    return saved[split]


def read_text(data_dir, split: str, start: int, stop: int, max_tokens: int, stats: ReadStats):
    """IMDb rows [start, stop) of `split` as UTF-8 byte ids."""
    rows = load_hub_split(data_dir, "imdb", split, download=False)
    for a in range(start, stop, BATCH):
        chunk = rows[a : min(a + BATCH, stop)]
        yield {
            "input_ids": [byte_ids(text.encode("utf-8"), max_tokens) for text in chunk["text"]],
            "label": [int(label) for label in chunk["label"]],
        }


def read_image(data_dir, split: str, start: int, stop: int, stats: ReadStats):
    """CIFAR-10 rows [start, stop) of `split` as grayscale pixel ids (ITU-R 601-2
    luma, PIL's convert("L"), as LRA's rgb_to_grayscale)."""
    rows = load_hub_split(data_dir, "cifar10", split, download=False)
    for a in range(start, stop, BATCH):
        chunk = rows[a : min(a + BATCH, stop)]
        yield {
            "input_ids": [pixel_ids(np.asarray(img.convert("L"), dtype=np.uint8)) for img in chunk["img"]],
            "label": [int(label) for label in chunk["label"]],
        }
