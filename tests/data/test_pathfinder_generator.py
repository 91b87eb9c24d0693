"""The Pathfinder generator: layout, balance, no pixel-statistic leak, determinism."""

import numpy as np
import pytest
from pathfinder_balance import assert_classes_differ_only_in_connectivity
from PIL import Image

from macformer.data import build_dataset
from macformer.data.generators.pathfinder import generate_pathfinder, main
from macformer.data.readers.pathfinder_images import read_entries

COUNT = 1200


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("pf") / "lra_release"
    folder = generate_pathfinder(out, size=32, difficulty="hard", count=COUNT, seed=5, workers=1, progress=False)
    return out, folder


def test_layout_and_metadata(generated):
    _, folder = generated
    assert folder.parts[-2:] == ("pathfinder32", "curv_contour_length_14")
    assert sorted(p.name for p in (folder / "metadata").iterdir()) == ["0.npy", "1.npy"]
    first = (folder / "metadata" / "0.npy").read_text().splitlines()[0].split()
    assert first[:3] == ["imgs/0", "sample_0.png", "0"] and len(first) == 11
    assert first[5] == "14" and first[6] == "4"  # contour length, distractor length
    image = Image.open(folder / "imgs" / "1" / "sample_199.png")
    assert image.mode == "L" and image.size == (32, 32)
    pixels = np.asarray(image)
    assert pixels.min() == 0 and pixels.max() == 255


def test_labels_balanced(generated):
    _, folder = generated
    labels = [label for _, label in read_entries(folder)]
    assert len(labels) == COUNT and sum(labels) == COUNT // 2


def test_classes_do_not_differ_in_pixel_statistics(generated):
    """Mean intensity and lit-pixel count per class agree within 4 standard errors
    of their difference (a leak makes the task trivial)."""
    _, folder = generated
    assert_classes_differ_only_in_connectivity(folder)


def test_same_seed_same_files_whatever_the_workers(tmp_path):
    folders = []
    for workers in (1, 2):
        main(["--out", str(tmp_path / str(workers)), "--size", "32", "--difficulty", "hard",
              "--count", "150", "--seed", "5", "--workers", str(workers), "--no-progress"])
        folders.append(tmp_path / str(workers) / "pathfinder32" / "curv_contour_length_14")
    files = sorted(p.relative_to(folders[0]) for p in folders[0].rglob("*") if p.is_file())
    assert len(files) == 150 + 2  # images, metadata, marker
    for relative in files:
        assert (folders[0] / relative).read_bytes() == (folders[1] / relative).read_bytes(), relative


def test_readers_read_the_generated_set(generated):
    out, _ = generated
    sizes = [len(build_dataset("pathfinder", s, out.parent, progress=False)) for s in ("train", "val", "test")]
    assert sizes == [960, 120, 120]


@pytest.mark.parametrize("size,difficulty,folder", [(64, "easy", "curv_baseline"), (128, "intermediate", "curv_contour_length_9")])
def test_other_sizes_and_difficulties(tmp_path, size, difficulty, folder):
    out = generate_pathfinder(tmp_path, size=size, difficulty=difficulty, count=6, seed=0, workers=1, progress=False)
    assert out == tmp_path / f"pathfinder{size}" / folder
    assert Image.open(out / "imgs" / "0" / "sample_5.png").size == (size, size)


def test_refuses_to_overwrite_a_release(tmp_path):
    folder = tmp_path / "pathfinder32" / "curv_contour_length_14" / "metadata"
    folder.mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not generated here"):
        generate_pathfinder(tmp_path, count=2, workers=1, progress=False)
