"""A resumed run keeps its whole learning curve and its total training time."""

from __future__ import annotations

import csv

import pytest
import torch
from integrity_helpers import run_dir, summary_of, train_here


def _rows(results) -> list[dict]:
    with open(run_dir(results) / "csv" / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_metrics_and_train_time_survive_an_interrupt(listops_data, tmp_path):
    with pytest.raises(SystemExit):  # a real SIGINT after step 4; last.ckpt is from step 3
        train_here(listops_data, tmp_path, "debug.interrupt_at_step=4")
    before = _rows(tmp_path)
    assert [int(r["step"]) for r in before if r["train/loss"]] == [0, 1, 2]
    checkpoint = torch.load(run_dir(tmp_path) / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 3
    seconds_at_checkpoint = checkpoint["callbacks"]["ThroughputMonitor"]["total_seconds"]

    resumed = train_here(listops_data, tmp_path)
    assert resumed["status"] == "completed" and resumed["resumed_from"].endswith("last.ckpt")
    rows = _rows(tmp_path)
    train = [int(r["step"]) for r in rows if r["train/loss"]]
    assert train == [0, 1, 2, 3, 4, 5]  # every step once, in order, across both attempts
    assert [int(r["step"]) for r in rows] == sorted(int(r["step"]) for r in rows)
    kept = [r for r in before if int(r["step"]) < 3]  # before the resumed step: the first attempt's
    assert rows[: len(kept)] == [{**{k: "" for k in rows[0]}, **r} for r in kept]
    assert len([r for r in rows if r["val/accuracy"]]) == 2  # the validations after steps 3 and 6
    # Time: the first attempt's time up to its checkpoint, plus the resumed steps.
    assert resumed["train_seconds"] > seconds_at_checkpoint > 0
    assert summary_of(tmp_path)["train_seconds"] == resumed["train_seconds"]
