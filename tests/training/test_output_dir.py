"""A run's outputs follow Hydra's output directory: `hydra.run.dir=X` puts summary.json,
checkpoints and logs in X; the console scripts are the `python -m` entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from training_helpers import ROOT, smoke_overrides

SCRIPTS = Path(sys.executable).parent


def _script(name: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "HYDRA_FULL_ERROR": "1"}
    return subprocess.run([str(SCRIPTS / name), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.slow
def test_hydra_run_dir_holds_every_output_of_the_run(lra_data, tmp_path):
    out = tmp_path / "chosen"
    done = _script("macformer-train", *smoke_overrides(lra_data, tmp_path / "results", "task=text",
                                                        "attention=softmax", "logger=csv"),
                   f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["run_dir"] == str(out)
    for name in ("checkpoints/best.ckpt", "checkpoints/last.ckpt", "train.log", "csv/metrics.csv",
                 ".hydra/config.yaml", "run_identity.json", "progress.json"):
        assert (out / name).is_file(), name
    assert not (tmp_path / "results").exists()  # nothing went to the default folder
    # Run again: the completed run in X is found there and skipped, and said once.
    again = _script("macformer-train", *smoke_overrides(lra_data, tmp_path / "results", "task=text",
                                                         "attention=softmax", "logger=csv"),
                    f"hydra.run.dir={out}")
    assert again.returncode == 0 and again.stdout.count("already completed") == 1, again.stdout


def test_hydra_run_dir_in_process(lra_data, tmp_path):
    from macformer.train import run

    out = tmp_path / "here"
    summary = run(smoke_overrides(lra_data, tmp_path / "results", "task=image", "attention=rfa",
                                  f"hydra.run.dir={out}"))
    assert summary["run_dir"] == str(out) and (out / "summary.json").is_file()
    assert (out / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.slow
def test_console_scripts_are_the_module_entry_points(tmp_path):
    assert _script("macformer-reproduce", "--profile", "smoke", "--print-profile").stdout == "smoke\n"
    for name, words in (("macformer-report", "summary.json"), ("macformer-data", "--data-dir"),
                        ("macformer-reproduce", "--profile")):
        done = _script(name, "--help", timeout=120)
        assert done.returncode == 0 and f"usage: {name}" in done.stdout and words in done.stdout, name
    report = _script("macformer-report", "--runs", str(tmp_path / "none"), "--out", str(tmp_path))
    assert report.returncode == 2 and "report:" in report.stderr  # no summary: says so, writes nothing
