"""Within-run progress: while a run trains in its own process, the reproduce driver shows
its step and the time it has left (from the run's progress.json), not only its log."""

from __future__ import annotations

import json
import os
import time

import pytest

from macformer.reproduce.progress import Progress, RunWatch, run_progress
from macformer.reproduce.runner import run_job
from macformer.reproduce.sweep import Row, Sweep, plan


@pytest.mark.slow
def test_the_driver_shows_a_runs_step_and_eta(tmp_path, capsys):
    sweep = Sweep("smoke", ("listops",), (Row("softmax", ("attention=softmax",)),), seeds=(0,),
                  isolation="subprocess", run_timeout_s=300, why="test")
    [job] = plan(sweep, (f"paths.data_dir={tmp_path / 'data'}", f"paths.results_dir={tmp_path / 'results'}"))
    watch = RunWatch(job.run_dir, lambda: "[1/1] listops softmax seed0:", every_s=0.0)
    summary, _ = run_job(job, "subprocess", 300, watch)
    assert summary["status"] == "completed", summary["error"]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[1/1]")]
    assert lines and lines[-1].startswith("[1/1] listops softmax seed0: step 6/6 (100%), "), lines
    assert "steps/s, run ETA 0:00" in lines[-1]


def test_progress_line_from_the_file(tmp_path):
    assert run_progress(tmp_path) is None  # not started
    (tmp_path / "progress.json").write_text(json.dumps(
        {"step": 1200, "max_steps": 10000, "steps_per_second": 2.5, "eta_seconds": 3520.0}))
    assert run_progress(tmp_path) == (1200, "step 1200/10000 (12%), 2.50 steps/s, run ETA 58:40")


def test_time_left_follows_a_running_runs_own_progress(tmp_path):
    progress = Progress(["listops", "listops"], {"listops": 600.0}, slots=1)
    run = tmp_path / "run"
    run.mkdir()
    progress.begin("listops", run)
    assert progress.remaining() == pytest.approx(1200, abs=1)  # no progress yet: the plan's
    for eta, left in ((300.0, 900.0), (60.0, 660.0)):  # the run's own ETA moves: so does the total
        (run / "progress.json").write_text(json.dumps({"step": 10, "max_steps": 20, "eta_seconds": eta}))
        assert progress.remaining() == pytest.approx(left)
    progress.finish("listops", 700.0, run)
    assert progress.remaining() == 700.0  # the queued run, at the measured time
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "progress.json").write_text(json.dumps({"step": 1, "max_steps": 2, "eta_seconds": 1.0}))
    os.utime(stale / "progress.json", (time.time() - 60, time.time() - 60))
    progress.begin("listops", stale)  # an earlier attempt's file is not this run's progress
    assert progress.remaining() == pytest.approx(700.0, abs=1)


def test_a_pretraining_says_so_and_its_eta_is_not_the_runs(tmp_path):
    (tmp_path / "progress.json").write_text(json.dumps(
        {"step": 100, "max_steps": 300, "steps_per_second": 2.0, "eta_seconds": 100.0, "stage": "pretraining"}))
    assert run_progress(tmp_path) == (100, "pretraining step 100/300 (33%), 2.00 steps/s, pretraining ETA 1:40")
    progress = Progress(["listops"], {"listops": 600.0}, slots=1)
    progress.begin("listops", tmp_path)
    # the fine-tuning still to come: the plan's time for the run, not the pretraining's 100 s
    assert progress.remaining() == pytest.approx(600.0, abs=1)
