"""One meaning of a run's length: the data layer pads every batch to it and the model gets
that many positions; `data.max_length` is the one setting, and there is no `task.seq_len`."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from training_helpers import compose_cfg, smoke_overrides, train_smoke

from macformer.data.variants import padded_length
from macformer.lifecycle.record import run_facts
from macformer.train import build_model


def test_max_length_sets_the_batches_the_model_and_the_record(tmp_path):
    extra = ("task=listops", "attention=softmax", "data.max_length=48")
    summary = train_smoke(tmp_path / "data", tmp_path / "results", *extra)
    assert summary["status"] == "completed" and summary["seq_len"] == 48
    cfg = compose_cfg(smoke_overrides(tmp_path / "data", tmp_path / "results", *extra))
    data = instantiate(cfg.data)
    batch = next(iter(data.train_dataloader()))
    assert batch["input_ids"].shape[1] == data.seq_len == 48 == run_facts(cfg)["seq_len"]
    assert build_model(cfg, data).encoder.max_length == 48


def test_without_max_length_the_data_set_decides():
    assert padded_length("listops") == 2048  # LRA's padded length
    assert padded_length("listops", "listops-short") == 256  # the reduced set's own
    assert padded_length("pathfinder", "lra", 100) == 100


def test_task_seq_len_is_not_a_setting(tmp_path):
    with pytest.raises(ConfigCompositionException, match="task.seq_len"):
        compose_cfg(smoke_overrides(tmp_path, tmp_path, "task.seq_len=1024"))
