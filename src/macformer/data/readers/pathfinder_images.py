"""Pathfinder / Path-X from the release layout: text metadata files
(`metadata/<k>.npy`, space-separated: path, file name, index, label, ...) and PNGs.
Readers use fields 0, 1 and 3. Empty or unreadable images are skipped and counted
(the release has an empty `pathfinder32/curv_baseline/imgs/0/sample_172.png`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..tasks import MalformedDataError
from .stats import ReadStats
from .tokens import pixel_ids

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train / val / test
NUMPY_MAGIC = b"\x93NUMPY"  # how a binary .npy file starts (the release's are text)


def metadata_files(folder: Path) -> list[Path]:
    files = [p for p in (Path(folder) / "metadata").glob("*.npy") if p.is_file()]
    # Numeric order (0, 1, ..., 10), not the file system's.
    return sorted(files, key=lambda p: (not p.stem.isdigit(), int(p.stem) if p.stem.isdigit() else 0, p.name))


def read_entries(folder: Path) -> list[tuple[str, int]]:
    """(image path relative to `folder`, label) for every metadata line."""
    entries = []
    for meta in metadata_files(folder):
        with open(meta, "rb") as f:
            if f.read(len(NUMPY_MAGIC)) == NUMPY_MAGIC:
                raise MalformedDataError(
                    f"{meta}: a binary numpy array file, but Pathfinder metadata is expected in the LRA text "
                    f"format (one line per image: `<folder> <file name> <index> <label> ...`); replace it with "
                    f"the release's metadata or regenerate the set with `python -m macformer.data.generators.pathfinder`")
            f.seek(0)
            for line_no, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise MalformedDataError(
                        f"{meta}:{line_no}: byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8; "
                        f"expected the LRA text format (`<folder> <file name> <index> <label> ...`)") from None
                fields = line.split()
                if not fields:
                    continue
                if len(fields) < 4:
                    raise MalformedDataError(f"{meta}:{line_no}: expected at least 4 space-separated fields, got {len(fields)}")
                try:
                    label = int(fields[3])
                except ValueError:
                    raise MalformedDataError(f"{meta}:{line_no}: label {fields[3]!r} is not an integer") from None
                if label not in (0, 1):
                    raise MalformedDataError(f"{meta}:{line_no}: label {label} is not 0 or 1")
                entries.append((f"{fields[0]}/{fields[1]}", label))
    return entries


def split_entries(entries: list[tuple[str, int]], split: str, seed: int) -> list[tuple[str, int]]:
    """An 80/10/10 split that is the same on every machine: entries are ordered by a
    hash of (seed, path), which depends neither on listing order nor on numpy."""
    def key(entry):
        return hashlib.sha256(f"{seed}/{entry[0]}".encode()).digest()

    ordered = sorted(entries, key=key)
    n = len(ordered)
    n_train, n_val = int(n * SPLIT_FRACTIONS[0]), int(n * SPLIT_FRACTIONS[1])
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, n)}
    start, end = bounds[split]
    return ordered[start:end]


def read_images(folder, entries, side: int, stats: ReadStats):
    """Batches of pixel ids and labels for `entries`; images must be side x side."""
    folder = Path(folder)
    batch = {"input_ids": [], "label": []}
    for relative, label in entries:
        path = folder / relative
        try:
            if path.stat().st_size == 0:
                raise OSError("empty file")
            with Image.open(path) as image:
                image = image.convert("L") if image.mode != "L" else image
                pixels = np.asarray(image, dtype=np.uint8)
        except (OSError, UnidentifiedImageError, SyntaxError):
            stats.skip(str(path))
            continue
        if pixels.shape != (side, side):
            raise MalformedDataError(f"{path}: expected a {side}x{side} image, got {pixels.shape[1]}x{pixels.shape[0]}")
        batch["input_ids"].append(pixel_ids(pixels))
        batch["label"].append(label)
    if batch["label"]:
        yield batch
