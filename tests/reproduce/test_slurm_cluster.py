"""`macformer-reproduce --launcher slurm --wait` against a real one-node SLURM cluster
(scripts/slurm-local.sh; skipped with its reason where it cannot start): the smoke sweep on
the CPU partition (same results as one after the other here) and on the GPU-GRES partition;
jobs SLURM rejects, in one line; a preemption (scancel -s USR2) that requeues and resumes
bit for bit; a job that runs out of its time limit, requeued and resumed."""

import json
import shutil
import subprocess
import sys
import time

import pytest
from reproduce_helpers import LONGER, ROWS, SAME, summaries
from test_launchers import assert_resumed_bit_for_bit

from macformer.reproduce.slurm_options import cpu_memory_mb

pytestmark = pytest.mark.slow
RUN = ("runs", "smoke", "listops", "softmax", "seed0")


def reproduce_command(data, results, *args: str) -> list[str]:
    return [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
            "--data-dir", str(data), "--results-dir", str(results), "--threads", "1",
            "--progress-every", "5", "--launcher", "slurm", "--wait", *args]


def run(command, env, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def sbatch_file(results) -> str:
    [script] = (results / "submitit").glob("*/*_submission.sh")
    return script.read_text()


def test_smoke_sweep_on_the_cpu_partition_matches_one_after_the_other(slurm_cluster, one_after_the_other,
                                                                      tmp_path):
    reference = one_after_the_other[0]
    shutil.copytree(reference / "results" / "calibration", tmp_path / "results" / "calibration")
    done = run(reproduce_command(reference / "data", tmp_path / "results", "--rows", *ROWS,
                                 "--calibration-steps", "20", "--slurm-partition", "cpu", *LONGER), slurm_cluster)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "calibrating" not in out  # the plan's measurements are the reference's
    assert out.count("accounting is disabled") == 1 and "Bypassing" not in out
    assert "2 of 2 run(s) completed" in out and (tmp_path / "results" / "smoke" / "accuracy.csv").exists()
    text = sbatch_file(tmp_path / "results")
    # A CPU plan: no GPU, the calibration's 1 thread, memory from the measured peak.
    peak = max(m["peak_memory_mb"] for m in json.loads(
        next((tmp_path / "results" / "calibration").glob("*.json")).read_text()).values())
    assert "gpu" not in text.replace("--partition=cpu", "") and "#SBATCH --cpus-per-task=1\n" in text
    assert f"#SBATCH --mem={cpu_memory_mb(peak)}M\n" in text
    ours, alone = summaries(tmp_path / "results"), summaries(reference / "results")
    for row in ROWS:
        assert {k: ours[row][k] for k in SAME} == {k: alone[row][k] for k in SAME}


def test_gpu_partition_with_a_typed_gres_and_jobs_slurm_rejects(slurm_cluster, tmp_path):
    base = reproduce_command(tmp_path / "data", tmp_path / "results", "--rows", "softmax",
                             "--calibration-steps", "0", "--no-report")
    for options, message in ((["--slurm-partition", "nope"], "invalid partition specified: nope"),
                             (["--slurm-partition", "cpu", "--slurm-gpus", "a100:1"],
                              "Requested node configuration is not available"),
                             (["--slurm-partition", "gpu", "--slurm-mem", "100G"],
                              "Memory specification can not be satisfied")):
        rejected = run(base + options, slurm_cluster, timeout=120)
        assert rejected.returncode == 2, rejected.stdout + rejected.stderr
        [line] = [line for line in rejected.stderr.splitlines() if not line.startswith("slurm:")]
        assert line.startswith("reproduce: SLURM rejected the job: sbatch: ") and message in line, rejected.stderr
    done = run(base + ["--slurm-partition", "gpu", "--slurm-gpus", "a100:1"], slurm_cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 of 1 run(s) completed" in done.stdout and "report:" not in done.stdout
    assert not (tmp_path / "results" / "smoke").exists()  # --no-report
    assert "#SBATCH --gres=gpu:a100:1\n" in sbatch_file(tmp_path / "results")
    assert json.loads((tmp_path / "results" / "/".join(RUN) / "summary.json").read_text())["status"] == "completed"


def job_ids(driver: subprocess.Popen) -> list[str]:
    """The job ids the driver prints after submitting (its output read up to that line)."""
    lines = []
    for line in driver.stdout:
        lines.append(line)
        if line.startswith("reproduce: job ids "):
            return line.split("job ids ", 1)[1].strip().split(", ")
    raise AssertionError("no job ids: " + "".join(lines))


def test_preempted_job_is_requeued_and_resumes_bit_for_bit(slurm_cluster, tmp_path):
    steps = ("task.max_steps=1000", "task.eval_every=100")
    # The uninterrupted twin on the other node, at the same time.
    twin = subprocess.Popen(reproduce_command(tmp_path / "data", tmp_path / "twin", "--rows", "softmax",
                                              "--calibration-steps", "0", "--no-report",
                                              "--slurm-partition", "gpu", *steps),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm_cluster)
    driver = subprocess.Popen(reproduce_command(tmp_path / "data", tmp_path / "results", "--rows", "softmax",
                                                "--calibration-steps", "0", "--no-report",
                                                "--slurm-partition", "cpu", *steps),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm_cluster)
    [job] = job_ids(driver)
    run_dir = tmp_path / "results" / "/".join(RUN)
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "last.ckpt").exists():
        assert driver.poll() is None and time.monotonic() < deadline, "the run never checkpointed"
        time.sleep(0.2)
    subprocess.run(["scancel", "--signal=USR2", job], check=True, env=slurm_cluster)
    out = driver.communicate(timeout=600)[0]
    twin_out = twin.communicate(timeout=600)[0]
    assert driver.returncode == 0 and twin.returncode == 0, out + twin_out
    assert "1 of 1 run(s) completed" in out
    assert_resumed_bit_for_bit(run_dir, tmp_path / "twin" / "/".join(RUN))
    assert (run_dir / "reproduce.log").read_text().count("$ ") == 2  # started, then requeued
    log = "".join(p.read_text() for p in (tmp_path / "results" / "submitit").rglob("*_log.err"))
    assert "Caught signal SIGUSR2" in log and "Bypassing" not in out


def test_job_over_its_time_limit_is_requeued_and_resumes(slurm_cluster, tmp_path):
    # --slurm-time-cap 1: a 1-minute limit, SLURM's warning 15 s before it. The run is far
    # longer (at any speed), so it is watched through one time-out: stopped, requeued,
    # resumed past the step it stopped at; then cancelled.
    driver = subprocess.Popen(reproduce_command(tmp_path / "data", tmp_path / "results", "--rows", "softmax",
                                                "--calibration-steps", "0", "--no-report", "--slurm-partition",
                                                "cpu", "--slurm-time-cap", "1", "task.max_steps=100000",
                                                "task.eval_every=200"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=slurm_cluster)
    [job] = job_ids(driver)
    run_dir = tmp_path / "results" / "/".join(RUN)
    deadline = time.monotonic() + 300
    while not (run_dir / "reproduce.log").exists() or (run_dir / "reproduce.log").read_text().count("$ ") < 2:
        assert driver.poll() is None and time.monotonic() < deadline, "never requeued"
        time.sleep(0.5)
    first = json.loads((run_dir / "summary.json").read_text())  # the first attempt's, stopped
    assert first["status"] == "interrupted" and 0 < first["steps"] < 100000
    while (json.loads((run_dir / "progress.json").read_text()) if (run_dir / "progress.json").exists()
           else {}).get("step", 0) <= first["steps"]:
        assert driver.poll() is None and time.monotonic() < deadline, "the requeued run never went on"
        time.sleep(0.5)
    subprocess.run(["scancel", job], check=True, env=slurm_cluster)
    out = driver.communicate(timeout=300)[0]
    assert driver.returncode == 0 and "0 of 1 run(s) completed" in out, out
    text = sbatch_file(tmp_path / "results")
    assert "#SBATCH --time=1\n" in text and "#SBATCH --signal=USR2@15\n" in text
    log = "".join(p.read_text() for p in (tmp_path / "results" / "submitit").rglob("*_log.err"))
    assert "Caught signal SIGUSR2 on" in log and "this job is timed-out" in log
    last = json.loads((run_dir / "summary.json").read_text())
    assert last["resumed_from"] and last["steps"] > first["steps"]


def test_a_ddp_row_gets_a_slurm_task_per_device(slurm_cluster, one_after_the_other, tmp_path):
    done = run(reproduce_command(one_after_the_other[0] / "data", tmp_path / "results", "--rows", "softmax",
                                 "--calibration-steps", "0", "--no-report", "--slurm-partition", "cpu",
                                 "trainer=ddp", "trainer.accelerator=cpu", *LONGER), slurm_cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "#SBATCH --ntasks-per-node=2\n" in sbatch_file(tmp_path / "results")
    summary = json.loads((tmp_path / "results" / "/".join(RUN) / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["device"].endswith("× 2 processes")
