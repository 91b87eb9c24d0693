"""Small sources written in the exact formats of the LRA release and the hub
(shared by the tests of the data layer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

LISTOPS_ROWS = [
    # (expression as in the release, value)
    ("( ( ( [MAX 2 ) 9 ) ] )", 9),
    ("( ( ( ( [MIN 4 ) ( ( ( [SM 3 ) 9 ) ] ) ) 5 ) ] )", 2),
    ("( ( ( ( ( [MED 1 ) 7 ) 2 ) 8 ) ] )", 4),
]


def write_listops(root: Path, rows=LISTOPS_ROWS) -> Path:
    folder = root / "listops-1000"
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        text = "Source\tTarget\n" + "".join(f"{e}\t{v}\n" for e, v in rows)
        (folder / f"basic_{split}.tsv").write_text(text)
    return folder


def aan_row(label: str, text1: bytes, text2: bytes) -> bytes:
    return b"\t".join([label.encode(), b"acl-1", b"acl-2", text1, text2]) + b"\n"


def write_aan(root: Path, n_rows=(3, 2, 2)) -> Path:
    folder = root / "tsv_data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in zip(("train", "eval", "test"), n_rows, strict=True):
        rows = [aan_row("1.0" if i % 2 else "0.0", b"a" * (5 + i), ("\u00e9" * 3).encode()) for i in range(n)]
        (folder / f"new_aan_pairs.{name}.tsv").write_bytes(b"".join(rows))
    return folder


def write_pathfinder(root: Path, name="pathfinder32", side=32, n=40, empty=(0, 7), seed=0) -> Path:
    """n images in imgs/0 (label i % 2), metadata/0.npy as space-separated text;
    the image `empty` is a 0-byte file, as sample_172.png in the release."""
    folder = root / name / "curv_contour_length_14"
    (folder / "imgs" / "0").mkdir(parents=True, exist_ok=True)
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        path = folder / "imgs" / "0" / f"sample_{i}.png"
        if (0, i) == empty:
            path.write_bytes(b"")
        else:
            Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8), mode="L").save(path)
        lines.append(f"imgs/0 sample_{i}.png {i} {i % 2} 1 14 4 2 0.5 1 2\n")
    (folder / "metadata" / "0.npy").write_text("".join(lines))
    return folder


def save_imdb(data_dir: Path, n_train=6, n_test=4) -> Path:
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})

    def split(n, tag):
        return datasets.Dataset.from_dict(
            {"text": [f"{tag} review {i} caf\u00e9 " + "x" * (10 * i) for i in range(n)],
             "label": [i % 2 for i in range(n)]}, features=features)

    folder = data_dir / "imdb"
    datasets.DatasetDict({"train": split(n_train, "train"), "test": split(n_test, "test")}).save_to_disk(str(folder))
    return folder


CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def save_cifar(data_dir: Path, n_train=20, n_test=5) -> Path:
    import datasets

    features = datasets.Features({"img": datasets.Image(), "label": datasets.ClassLabel(names=CIFAR_NAMES)})
    rng = np.random.default_rng(0)

    def split(n):
        images = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), mode="RGB") for _ in range(n)]
        return datasets.Dataset.from_dict({"img": images, "label": [i % 10 for i in range(n)]}, features=features)

    folder = data_dir / "cifar10"
    datasets.DatasetDict({"train": split(n_train), "test": split(n_test)}).save_to_disk(str(folder))
    return folder
