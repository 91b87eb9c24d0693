"""SLURM through submitit, end to end on the CPU with submitit's local executor (the same
code path, one machine): two smoke runs, one stopped mid-run by the signal SLURM sends
before a preemption or time limit (USR2), requeued and resumed bit for bit; then the
report from those runs. Once through `macformer-reproduce --launcher local` (job arrays of
the costed plan), once through the Hydra multirun path (`hydra/launcher=submitit_local`,
the engine behind `hydra/launcher=slurm`)."""

import json
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch
from reproduce_helpers import ENV, LONGER, ROWS, SAME, summaries

from macformer.report import build_report


@pytest.fixture
def reference(one_after_the_other):
    """The two runs, uninterrupted, one after the other (and their calibration cache)."""
    return one_after_the_other[0]


def stop_mid_run(process: subprocess.Popen, run_dir, whole_job: bool) -> int:
    """Once the run has a checkpoint and is still training, send USR2 as SLURM does: to
    the job's processes (`whole_job`: the training process and the task that started it)."""
    deadline = time.monotonic() + 120
    while not (run_dir / "checkpoints" / "last.ckpt").exists():
        assert process.poll() is None and time.monotonic() < deadline, "the run never checkpointed"
        time.sleep(0.05)
    training = psutil.Process(json.loads((run_dir / "run.lock").read_text())["pid"])
    targets = [training.parent(), training] if whole_job else [training]
    for p in targets:
        p.send_signal(signal.SIGUSR2)
    return training.pid


def assert_resumed_bit_for_bit(run_dir, reference_dir):
    resumed, alone = (json.loads((d / "summary.json").read_text()) for d in (run_dir, reference_dir))
    assert resumed["resumed_from"] and not alone["resumed_from"]
    assert {k: resumed[k] for k in SAME} == {k: alone[k] for k in SAME}
    weights = [torch.load(d / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
               for d in (run_dir, reference_dir)]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_launcher_local_array_killed_run_requeues_and_resumes(reference, tmp_path):
    shutil.copytree(reference / "results" / "calibration", tmp_path / "results" / "calibration")
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", *ROWS, "--data-dir", str(reference / "data"), "--results-dir",
               str(tmp_path / "results"), "--threads", "1", "--calibration-steps", "20",
               "--launcher", "local", "--pack-minutes", "0", *LONGER]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    run_dir = tmp_path / "results" / "runs" / "smoke" / "listops" / "softmax" / "seed0"
    stop_mid_run(driver, run_dir, whole_job=True)
    out, _ = driver.communicate(timeout=300)
    assert driver.returncode == 0, out
    assert "calibrating" not in out  # the cache copied from the reference holds both shapes
    assert "array of 2 task(s), 30 min each (2 runs)" in out and out.count("): ENDED") == 2
    assert "2 of 2 run(s) completed" in out
    assert summaries(tmp_path / "results")["rmfa-exp-causal"]["status"] == "completed"
    assert_resumed_bit_for_bit(run_dir, reference / "results" / "runs" / "smoke" / "listops" / "softmax" / "seed0")
    log = "".join(p.read_text() for p in (tmp_path / "results" / "submitit").rglob("*_log.err"))
    assert "Caught signal SIGUSR2" in log
    assert (run_dir / "reproduce.log").read_text().count("$ ") == 2  # started, then requeued
    accuracy = (tmp_path / "results" / "smoke" / "accuracy.csv").read_text()
    assert "softmax" in accuracy and "rmfa-exp (causal)" in accuracy


def test_hydra_submitit_local_multirun_killed_run_requeues_and_resumes(reference, tmp_path):
    command = [sys.executable, "-m", "macformer.train", "-m", "hydra/launcher=submitit_local",
               "profile=smoke", "task=listops", "attention=softmax,rmfa",
               f"paths.data_dir={reference / 'data'}", f"paths.results_dir={tmp_path}", *LONGER]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    run_dir = tmp_path / "runs" / "smoke" / "listops" / "softmax" / "seed0"
    stop_mid_run(sweep, run_dir, whole_job=False)  # here the job's process trains
    out, _ = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, out
    assert_resumed_bit_for_bit(run_dir, reference / "results" / "runs" / "smoke" / "listops" / "softmax" / "seed0")
    written = build_report(tmp_path / "runs", tmp_path, profile="smoke").written
    assert tmp_path / "smoke" / "accuracy.csv" in written
    assert summaries(tmp_path)["rmfa-exp-causal"]["status"] == "completed"
