"""The smoke profile's data says what it is: its generated tasks train on tiny sets named
apart from LRA's, under data/generated/<name>/, and its report columns carry that name
(outside the LRA average). The real LRA loaders' paths stay as they are."""

from __future__ import annotations

import pytest

from macformer.config import compose_run
from macformer.data.generate import ensure_generated, generated_folder
from macformer.data.release import LRA_FOLDERS
from macformer.data.variants import VARIANTS, padded_length
from macformer.report.load import LRA_DATA, column_key, column_title

SMOKE_SETS = {"listops": "listops-smoke", "pathfinder": "pathfinder-smoke", "pathx": "pathx-smoke"}


@pytest.mark.parametrize("task", ["listops", "text", "retrieval", "image", "pathfinder", "pathx"])
def test_the_smoke_profile_names_its_generated_sets(task):
    cfg = compose_run(["profile=smoke", f"task={task}"])
    assert cfg.data.dataset == SMOKE_SETS.get(task, LRA_DATA)  # text, retrieval, image: LRA's data, cut
    assert compose_run(["profile=paper", f"task={task}"]).data.dataset == LRA_DATA


def test_the_smoke_sets_are_lra_generators_at_their_lra_lengths():
    assert padded_length("listops", "listops-smoke") == padded_length("listops") == 2048
    assert padded_length("pathfinder", "pathfinder-smoke") == padded_length("pathfinder") == 1024
    assert padded_length("pathx", "pathx-smoke") == padded_length("pathx") == 16384
    assert VARIANTS["pathfinder-smoke"].generator == {"size": 32, "difficulty": "hard"}
    assert "smoke" in VARIANTS["listops-smoke"].description


def test_a_smoke_run_generates_its_listops_apart_from_the_lra_folders(tmp_path):
    cfg = compose_run(["profile=smoke", "task=listops", f"paths.data_dir={tmp_path}"])
    made = ensure_generated("listops", tmp_path, dict(cfg.generate.listops), cfg.generate.seed, cfg.data.dataset)
    assert made is not None and str(tmp_path / "generated" / "listops-smoke") in made
    assert (tmp_path / "generated" / "listops-smoke" / "basic_train.tsv").is_file()
    assert not (tmp_path / "lra_release").exists()  # never under an LRA folder name
    # The LRA set (make data, the release) keeps its place.
    assert generated_folder("listops", tmp_path) == tmp_path / "lra_release" / LRA_FOLDERS["listops"]


def test_its_report_column_says_what_it_is():
    column = column_key("listops", "listops-smoke")
    assert column_title(column) == "ListOps (listops-smoke)"
    assert column_title(column_key("listops", LRA_DATA)) == "ListOps"
