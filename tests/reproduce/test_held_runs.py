"""A run another process holds (its run.lock) is reported "held by another process" and
the driver writes nothing into its folder: found held before it starts, or lost in the
lock race by the run process itself (a forked child or `python -m macformer.train`)."""

from __future__ import annotations

import os
import socket

import pytest
from driver_helpers import run_dir, smoke_job, snapshot, start_driver, summary

from macformer.lifecycle.lock import LOCKED_EXIT, RunLock
from macformer.reproduce import runner
from macformer.reproduce.held import HELD
from macformer.reproduce.runner import RunHandle, run_job


@pytest.fixture
def held_job(tmp_path):
    """A smoke job whose folder this test process holds (a live holder), with a file in it."""
    job = smoke_job(tmp_path / "data", tmp_path / "results")
    job.run_dir.mkdir(parents=True)
    (job.run_dir / "train.log").write_text("the other process's log\n")
    lock = RunLock(job.run_dir).acquire()
    yield job
    lock.release()


def assert_held_by_me(summary: dict) -> None:
    assert summary["status"] == HELD
    assert summary["error"].startswith(f"held by another process (pid {os.getpid()} on "
                                       f"{socket.gethostname()}, started ")


def test_a_run_found_held_is_reported_held_and_its_folder_left_alone(held_job):
    before = snapshot(held_job.run_dir)
    summary, _ = run_job(held_job, "fork", 300)
    assert_held_by_me(summary)
    assert snapshot(held_job.run_dir) == before  # no summary, no log, no cost.json


def assert_lost_the_race(handle: RunHandle, before) -> None:
    """The run ended LOCKED_EXIT, is reported held by this test's lock, and its folder is as
    it was (`before`: its snapshot while the lock was held)."""
    while handle.alive():
        handle.wait(0.2)
    assert handle.exitcode() == LOCKED_EXIT
    summary, _ = handle.finish()
    assert_held_by_me(summary)
    assert snapshot(handle.job.run_dir) == before


def test_a_forked_run_that_loses_the_lock_race_writes_nothing(held_job, monkeypatch):
    # Both drivers looked before either took the lock: the run process finds it taken.
    monkeypatch.setattr(runner, "live_holder", lambda run_dir: None)
    before = snapshot(held_job.run_dir)
    assert_lost_the_race(RunHandle(held_job, "fork", 300), before)


def test_macformer_train_that_loses_the_lock_race_writes_nothing(tmp_path):
    job = smoke_job(tmp_path / "data", tmp_path / "results")
    job.run_dir.mkdir(parents=True)
    handle = RunHandle(job, "subprocess", 300)  # it imports torch for seconds before locking
    lock = RunLock(job.run_dir).acquire()
    try:
        assert_lost_the_race(handle, snapshot(job.run_dir))
    finally:
        lock.release()


@pytest.mark.slow
def test_two_drivers_on_one_results_folder_run_each_run_once(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results"
    rows = ("softmax", "rmfa-exp-causal")
    args = ("--tasks", "listops", "--rows", *rows, "task.max_steps=150", "task.eval_every=50")
    drivers = [start_driver(data, results, *args) for _ in range(2)]
    outs = [driver.communicate(timeout=300)[0] for driver in drivers]
    assert [driver.returncode for driver in drivers] == [0, 0], outs
    for row in rows:
        assert summary(run_dir(results, row))["status"] == "completed", outs
        # Only the driver whose run held the folder wrote its log there.
        assert (run_dir(results, row) / "reproduce.log").read_text().count("# forked from the driver") == 1
    assert any("held by another process (pid" in out for out in outs), outs
    assert not any("failed" in out for out in outs), outs
