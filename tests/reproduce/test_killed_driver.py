"""A driver killed mid-sweep (kill -9) leaves no run training on its own for long, and a
re-run never reports its runs failed: the run hears its driver die (SIGTERM), saves,
records itself `interrupted` and ends; the re-run resumes it. A run that outlived its
driver anyway (started without that signal) is waited for, then counted as it ended."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest
from driver_helpers import (
    ENV,
    run_dir,
    run_driver,
    smoke_job,
    start_driver,
    steps_done,
    summary,
    wait_until,
)

from macformer.lifecycle.lock import read_holder

ROW = "rmfa-exp-causal"
LONGER = ("task.max_steps=400", "task.eval_every=100")  # longer than the test takes to kill it
SHORTER = ("task.max_steps=200", "task.eval_every=100")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
def test_kill_9_of_the_driver_then_rerun_resumes_its_run(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results"
    args = ("--tasks", "listops", "--rows", ROW, *LONGER)
    folder = run_dir(results, ROW)
    driver = start_driver(data, results, *args)
    wait_until(lambda: steps_done(folder) >= 1, 180, "the run to train")
    run_pid = read_holder(folder)["pid"]
    assert run_pid != driver.pid  # a forked run, not the driver itself
    driver.kill()
    driver.communicate(timeout=30)
    wait_until(lambda: gone(run_pid), 60, f"the orphaned run (pid {run_pid}) to end")
    left = summary(folder)
    assert left["status"] == "interrupted" and left["stop_reason"] == "SIGTERM", left
    last = folder / "checkpoints" / "last.ckpt"
    assert last.exists()

    again = run_driver(data, results, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "failed" not in again.stdout and "held" not in again.stdout
    assert "finished in" in again.stdout and ": 1 completed" in again.stdout
    final = summary(folder)
    assert final["status"] == "completed" and final["resumed_from"] == str(last)


# Starts macformer-train, waits until it holds its folder, then exits: its run lives on
# with a parent that is gone (and no parent-death signal), as after a shell that exited.
ORPHAN_MAKER = """
import json, subprocess, sys, time
from pathlib import Path
lock = Path(sys.argv[1]) / "run.lock"
run = subprocess.Popen([sys.executable, "-m", "macformer.train", *sys.argv[2:]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
while not (lock.exists() and json.loads(lock.read_text() or "{}").get("pid") == run.pid):
    time.sleep(0.1)
"""


@pytest.mark.slow
def test_a_rerun_waits_for_a_run_whose_driver_is_gone_and_counts_it_completed(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results"
    job = smoke_job(data, results, ROW, "run.sweep_id=reproduce-smoke", *SHORTER)
    subprocess.run([sys.executable, "-c", ORPHAN_MAKER, str(job.run_dir), *job.overrides],
                   check=True, timeout=120, env=ENV)
    orphan = read_holder(job.run_dir)
    assert orphan is not None and not gone(orphan["pid"])

    again = run_driver(data, results, "--tasks", "listops", "--rows", ROW, *SHORTER)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "still running from a driver that is gone" in again.stdout
    assert "failed" not in again.stdout and "held" not in again.stdout
    assert ": 1 completed" in again.stdout and "completed before" in again.stdout
    assert summary(job.run_dir)["status"] == "completed" and gone(orphan["pid"])
