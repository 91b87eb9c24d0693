"""Generator options: an explicit folder, contour length, distractors, size 16; the
recorded options; refusals of sets that would pass for LRA's."""

import json

import pytest
from pathfinder_balance import assert_classes_differ_only_in_connectivity, images
from PIL import Image

from macformer.data.generators.pathfinder import generate_pathfinder, main
from macformer.data.readers.pathfinder_images import read_entries, read_images, split_entries
from macformer.data.readers.stats import ReadStats

COUNT = 1000


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pf16") / "generated" / "pathfinder16-test"
    # The reduced set suggested for CPU runs: 16x16, contours of 2 paddles, no distractors.
    return generate_pathfinder(folder=folder, size=16, contour_length=2, distractors=0, count=COUNT,
                               seed=3, workers=1, progress=False)


def test_explicit_folder_layout_and_marker(small):
    assert small.name == "pathfinder16-test" and not (small.parent / "pathfinder16").exists()
    marker = json.loads((small / "GENERATED.json").read_text())
    assert marker["lra"] is False and marker["difficulty"] is None
    assert {k: marker[k] for k in ("size", "contour_length", "distractors", "count", "seed")} == {
        "size": 16, "contour_length": 2, "distractors": 0, "count": COUNT, "seed": 3}
    assert marker["params"]["total_distractor_paddles"] == 0 and marker["distractor_contours"] == 0
    fields = (small / "metadata" / "0.npy").read_text().splitlines()[7].split()
    assert fields[5:7] == ["2", "1"]  # contour length, distractor length
    assert not any(p.name.startswith(".") for p in small.parent.iterdir())  # no temporary folder left


def test_reader_reads_the_small_set(small):
    entries = split_entries(read_entries(small), "test", 0)
    stats = ReadStats()
    batch = next(read_images(small, entries, 16, stats))
    assert len(batch["label"]) == len(entries) == COUNT // 10
    assert batch["input_ids"][0].shape == (256,) and stats.skipped == 0


def test_small_set_classes_do_not_differ_in_pixel_statistics(small):
    """As for LRA's sets: per-class mean intensity and lit-pixel counts agree within 4
    standard errors of their difference."""
    labels = assert_classes_differ_only_in_connectivity(small)
    assert labels.sum() == COUNT // 2


def test_distractors_and_contour_length_change_theimages(tmp_path, small):
    """More distractor paddles and longer contours light more pixels (same seed)."""
    options = dict(size=16, count=60, seed=3, workers=1, progress=False)
    bare = generate_pathfinder(folder=tmp_path / "bare", contour_length=3, distractors=0, **options)
    busy = generate_pathfinder(folder=tmp_path / "busy", contour_length=3, distractors=12, **options)
    long = generate_pathfinder(folder=tmp_path / "long", contour_length=5, distractors=0, **options)
    lit = {name: (images(f, read_entries(f)) > 0).sum((1, 2)).mean()
           for name, f in (("bare", bare), ("busy", busy), ("long", long))}
    assert lit["busy"] > lit["bare"] + 5 and lit["long"] > lit["bare"] + 5, lit


def test_cli_flags(tmp_path):
    folder = tmp_path / "cli"
    main(["--folder", str(folder), "--size", "16", "--contour-length", "4", "--distractors", "3",
          "--thickness", "0.75", "--marker-radius", "1.25", "--seed-distance", "5",
          "--count", "12", "--seed", "1", "--workers", "1", "--no-progress"])
    marker = json.loads((folder / "GENERATED.json").read_text())
    assert {k: marker[k] for k in ("contour_length", "distractors", "thickness", "marker_radius",
                                   "seed_distance", "count")} == {
        "contour_length": 4, "distractors": 3, "thickness": 0.75, "marker_radius": 1.25,
        "seed_distance": 5, "count": 12}
    assert Image.open(folder / "imgs" / "0" / "sample_11.png").size == (16, 16)


@pytest.mark.parametrize("options,message", [
    (dict(size=16), "only LRA's sets"),
    (dict(size=32, contour_length=5), "only LRA's sets"),
    (dict(size=32, difficulty="easy", distractors=0), "only LRA's sets"),
])
def test_reduced_sets_do_not_take_an_lra_folder_name(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        generate_pathfinder(tmp_path, count=2, workers=1, progress=False, **options)
    assert not any(tmp_path.iterdir())


def test_option_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="exactly one of out_dir"):
        generate_pathfinder(tmp_path, folder=tmp_path / "x", count=2)
    with pytest.raises(ValueError, match="difficulty 'easy' means contour length 6, not 9"):
        generate_pathfinder(folder=tmp_path / "x", difficulty="easy", contour_length=9, count=2)
    with pytest.raises(ValueError, match="size must be one of"):
        generate_pathfinder(folder=tmp_path / "x", size=24, count=2)
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--size", "16", "--count", "2"])
    assert "only LRA's sets" in capsys.readouterr().err


def test_contours_that_cannot_fit_are_refused(tmp_path):
    with pytest.raises(ValueError, match="contours of 40 paddles .* did not fit .* 16x16"):
        generate_pathfinder(folder=tmp_path / "tight", size=16, contour_length=40, count=1, workers=1,
                            progress=False)
    assert not (tmp_path / "tight").exists()
