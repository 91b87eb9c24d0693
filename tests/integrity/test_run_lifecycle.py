"""The run lifecycle on its own (lifecycle/run_lifecycle.py), without training: whatever the
body of `with RunLifecycle(...)` does, summary.json says how the run ended and the folder's
lock is let go; a completed run found again is skipped with nothing written; a launched DDP
worker never writes the folder's own files."""

from __future__ import annotations

import pytest
from integrity_helpers import overrides, run_dir
from training_helpers import compose_cfg

from macformer.lifecycle.lock import LOCK_NAME, RunLock
from macformer.lifecycle.outcome import RunInterrupted
from macformer.lifecycle.record import COMPLETED, FAILED, INTERRUPTED, SUMMARY_NAME, read_summary
from macformer.lifecycle.run_lifecycle import RunLifecycle, now


def lifecycle(tmp_path, *extra) -> RunLifecycle:
    args = overrides(tmp_path / "data", tmp_path / "results", *extra)
    return RunLifecycle(compose_cfg(args), args, now())


def files(folder) -> dict:
    return {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_a_failure_is_recorded_and_the_lock_let_go(tmp_path):
    run = lifecycle(tmp_path)
    assert not run.skipped and run.checkpoint is None
    assert (run.run_dir / LOCK_NAME).exists()  # held from the start, before the body
    with pytest.raises(ValueError, match="boom"):
        with run as summary:
            summary["steps"] = 3
            raise ValueError("boom")
    record = read_summary(run_dir(tmp_path / "results"))
    assert record["status"] == FAILED and record["error"] == "ValueError: boom"
    assert record["failed_step"] == 3 and record["stop_reason"] == "error"
    assert record["start_time"] <= record["end_time"]
    assert not (run.run_dir / LOCK_NAME).exists()
    RunLock(run.run_dir).acquire().release()  # free for the next process


def test_ctrl_c_is_recorded_interrupted_and_exits_130(tmp_path):
    with pytest.raises(RunInterrupted) as raised:
        with lifecycle(tmp_path) as summary:
            summary["steps"] = 7
            raise KeyboardInterrupt
    assert raised.value.code == 130 and "step 7" in str(raised.value)
    record = read_summary(run_dir(tmp_path / "results"))
    assert record["status"] == INTERRUPTED and record["stop_reason"] == "SIGINT"
    assert not (run_dir(tmp_path / "results") / LOCK_NAME).exists()


def test_a_completed_run_is_skipped_with_nothing_written(tmp_path):
    with lifecycle(tmp_path) as summary:
        summary.update(status=COMPLETED, stop_reason="max_steps", steps=10)
    folder = run_dir(tmp_path / "results")
    before = files(folder)
    again = lifecycle(tmp_path)
    assert again.skipped and again.previous == read_summary(folder)
    assert again.previous["status"] == COMPLETED and again.previous["steps"] == 10
    with pytest.raises(RuntimeError, match="skipped"):
        again.__enter__()
    assert files(folder) == before


def test_a_launched_worker_writes_nothing_of_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    run = lifecycle(tmp_path)
    assert run.worker and not run.skipped
    with pytest.raises(ValueError):
        with run as summary:
            raise ValueError("boom")
    assert summary["status"] == FAILED and summary["end_time"] is not None
    folder = run_dir(tmp_path / "results")
    assert not (folder / SUMMARY_NAME).exists() and not (folder / LOCK_NAME).exists()
