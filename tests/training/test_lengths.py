"""One meaning of a run's length: the data layer pads every batch to it and the model gets
that many positions; `data.max_length` is the one setting, and there is no `task.seq_len`."""

from __future__ import annotations

import logging

import pytest
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from training_helpers import compose_cfg, smoke_overrides, train_smoke

from macformer.data.variants import padded_length
from macformer.lifecycle.record import run_facts
from macformer.train import build_model


def test_max_length_sets_the_batches_the_model_and_the_record(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    extra = ("task=listops", "attention=softmax", "data.max_length=48")
    summary = train_smoke(tmp_path / "data", tmp_path / "results", *extra)
    assert summary["status"] == "completed" and summary["seq_len"] == 48
    # ListOps trees are longer than 500 tokens: every one is cut, and the run says so once.
    cut = [r.getMessage() for r in caplog.records if "cuts" in r.getMessage()]
    assert cut == ["data.max_length=48 cuts 100.0% of the listops training examples "
                   "(they are longer than 48 tokens)"]
    cfg = compose_cfg(smoke_overrides(tmp_path / "data", tmp_path / "results", *extra))
    data = instantiate(cfg.data)
    batch = next(iter(data.train_dataloader()))
    assert batch["input_ids"].shape[1] == data.seq_len == 48 == run_facts(cfg)["seq_len"]
    assert build_model(cfg, data).encoder.max_length == 48
    # At the task's own length nothing is cut.
    full = compose_cfg(smoke_overrides(tmp_path / "data", tmp_path / "results", *extra[:2],
                                       "data.max_length=null"))
    assert instantiate(full.data).truncated_share("train") == 0.0


def test_without_max_length_the_data_set_decides():
    assert padded_length("listops") == 2048  # LRA's padded length
    assert padded_length("listops", "listops-short") == 256  # the reduced set's own
    assert padded_length("pathfinder", "lra", 100) == 100


def test_task_seq_len_is_not_a_setting(tmp_path):
    with pytest.raises(ConfigCompositionException, match="task.seq_len"):
        compose_cfg(smoke_overrides(tmp_path, tmp_path, "task.seq_len=1024"))
