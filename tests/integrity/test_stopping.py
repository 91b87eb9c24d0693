"""A run stopped by trainer.max_time is `stopped`, not completed, and the same command (with
or without max_time) continues it; a protocol's early stopping is a completed run."""

from __future__ import annotations

import csv

import pytest
import torch
from integrity_helpers import LONG, run_dir, summary_of, train_here

MAX_TIME = "+trainer.max_time=00:00:00:01"


def _train_steps(results) -> list[int]:
    with open(run_dir(results) / "csv" / "metrics.csv") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle) if row["train/loss"]]


def test_max_time_stops_and_the_same_command_continues(listops_data, tmp_path):
    first = train_here(listops_data, tmp_path, *LONG, MAX_TIME)
    assert first["status"] == "stopped" and first["stop_reason"] == "max_time"
    assert 0 < first["steps"] < 100000 and first["test_accuracy"] is None
    assert first["error"] == (f"stopped by trainer.max_time=00:00:00:01 at step {first['steps']} of "
                              f"100000; re-run the same command to continue")
    last = run_dir(tmp_path) / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == first["steps"]  # saved where it stopped

    second = train_here(listops_data, tmp_path, *LONG, MAX_TIME)  # not skipped: continued
    assert second["status"] == "stopped" and second["resumed_from"] == str(last)
    assert second["steps"] > first["steps"] and second["train_seconds"] > first["train_seconds"]

    # Without max_time it is the same configuration (same folder, same hash): it continues.
    stop_at = second["steps"] + 2
    with pytest.raises(SystemExit):
        train_here(listops_data, tmp_path, *LONG, f"debug.interrupt_at_step={stop_at}")
    third = summary_of(tmp_path)
    assert third["config_hash"] == first["config_hash"] and third["resumed_from"] == str(last)
    assert third["status"] == "interrupted" and third["steps"] == stop_at
    steps = _train_steps(tmp_path)  # one curve across the three attempts
    assert steps == list(range(len(steps))) and len(steps) >= stop_at - 1


def test_protocol_early_stopping_completes_with_its_reason(listops_data, tmp_path):
    early = ["+callbacks.early_stopping._target_=pytorch_lightning.callbacks.EarlyStopping",
             "+callbacks.early_stopping.monitor=val/accuracy", "+callbacks.early_stopping.mode=max",
             "+callbacks.early_stopping.stopping_threshold=0.0"]  # met at the first validation
    summary = train_here(listops_data, tmp_path, *early)
    assert summary["status"] == "completed" and summary["stop_reason"] == "early_stopping"
    assert summary["steps"] == 3 and summary["max_steps"] == 6 and summary["test_accuracy"] is not None
