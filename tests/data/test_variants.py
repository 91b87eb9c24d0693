"""Reduced generated sets: named apart from LRA's, generated with their own options,
regenerated when stale, read through the same readers, recorded in every result."""

import json

import pytest

from macformer.data.build import build_dataset
from macformer.data.generate import generate, why_generate
from macformer.data.prepare import main as prepare_main
from macformer.data.tasks import DataError
from macformer.data.variants import VARIANTS, check_dataset, variant_folder

SIZES = {"n_train": 40, "n_val": 12, "n_test": 12}


def test_names_are_checked_against_the_task():
    assert check_dataset("listops", "lra") is None
    assert check_dataset("listops", "listops-short").task == "listops"
    with pytest.raises(DataError, match="allowed values: lra, listops-short"):
        check_dataset("listops", "pathfinder16-cpu")


def test_listops_short_is_generated_apart_and_read_by_the_same_reader(tmp_path):
    variant = VARIANTS["listops-short"]
    assert why_generate("listops", tmp_path, SIZES, variant.name) is not None  # nothing there yet
    folder = generate("listops", tmp_path, SIZES, 0, variant.name, workers=1, progress=False)
    assert folder == variant_folder(tmp_path, "listops-short") == tmp_path / "generated" / "listops-short"
    assert not (tmp_path / "lra_release").exists()  # never under an LRA folder name
    assert why_generate("listops", tmp_path, SIZES, variant.name, seed=0) is None
    rows = build_dataset("listops", "train", tmp_path, dataset="listops-short", progress=False)
    lengths = [len(ids) for ids in rows["input_ids"]]
    assert len(rows) == 40 and 50 < min(lengths) and max(lengths) < 250
    with pytest.raises(DataError):  # the LRA set was never made
        build_dataset("listops", "train", tmp_path, progress=False)


def test_stale_sets_are_regenerated(tmp_path):
    variant = VARIANTS["listops-short"]
    folder = generate("listops", tmp_path, SIZES, 0, variant.name, workers=1, progress=False)
    assert "smaller" in why_generate("listops", tmp_path, {**SIZES, "n_train": 400}, variant.name)
    assert "seed" in why_generate("listops", tmp_path, SIZES, variant.name, seed=1)
    marker = json.loads((folder / "GENERATED.json").read_text())
    (folder / "GENERATED.json").write_text(json.dumps({**marker, "max_length": 2000}))
    assert "other options" in why_generate("listops", tmp_path, SIZES, variant.name)


def test_prepare_makes_the_reduced_sets_instead_of_the_lra_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        prepare_main(["--data-dir", str(tmp_path), "--offline", "--only", "listops",
                      "--datasets", "listops-short", "--listops-train", "40", "--listops-val", "12",
                      "--listops-test", "12", "--workers", "1"])
    out = capsys.readouterr().out
    assert exit_info.value.code in (0, None), out
    assert "[listops-short] ready" in out and "not LRA data" in out
    assert (tmp_path / "generated" / "listops-short" / "basic_test.tsv").is_file()
    assert not (tmp_path / "lra_release" / "listops-1000").exists()


def test_pathfinder_variant_is_the_whole_small_image(tmp_path):
    variant = VARIANTS["pathfinder16-cpu"]
    generate("pathfinder", tmp_path, {"count": 40}, 0, variant.name, workers=1, progress=False)
    rows = build_dataset("pathfinder", "train", tmp_path, dataset="pathfinder16-cpu", progress=False)
    assert {len(ids) for ids in rows["input_ids"]} == {16 * 16} == {variant.seq_len}
