"""Within-run progress: while a run trains in its own process, the reproduce driver shows
its step and the time it has left (from the run's progress.json), not only its log."""

from __future__ import annotations

import json

import pytest

from macformer.reproduce.progress import RunWatch, run_progress
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
