"""A multirun that skips a completed job leaves that run's provenance untouched."""

from __future__ import annotations

import subprocess
import sys

from integrity_helpers import RUN, cli_env, run_dir
from training_helpers import ROOT

PROVENANCE = (".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml", "train.log",
              "summary.json", "run_identity.json")


def _multirun(data_dir, results):
    command = [sys.executable, "-m", "macformer.train", "-m", *RUN, "logger=csv",
               f"paths.data_dir={data_dir}", f"paths.results_dir={results}"]
    return subprocess.run(command, cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=240)


def _files(folder):
    return {name: ((folder / name).read_bytes(), (folder / name).stat().st_mtime_ns) for name in PROVENANCE}


def test_skipped_job_leaves_the_completed_run_alone(listops_data, tmp_path):
    first = _multirun(listops_data, tmp_path)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    folder = run_dir(tmp_path)
    recorded = _files(folder)
    assert b"task=listops" in recorded[".hydra/overrides.yaml"][0]
    assert b"run.sweep_id=" in recorded[".hydra/overrides.yaml"][0]
    assert b"completed" in recorded["train.log"][0]

    again = _multirun(listops_data, tmp_path)  # another sweep id: the job is skipped
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "already completed" in again.stdout
    assert _files(folder) == recorded
