"""A run over the driver's time limit fails alone: recorded `failed` with stop_reason
`time_limit`, the sweep goes on, the closing line counts it, and a re-run continues it
from the checkpoint it saved on the way out (SIGTERM, not the SIGINT of Ctrl-C)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pytest
from driver_helpers import run_dir, smoke_job, start_driver, steps_done, summary

from macformer.lifecycle.resume import plan_run
from macformer.reproduce.runner import TERM_GRACE_S, TIME_LIMIT, RunHandle, run_job

LIMIT_S = 25  # above a smoke run's ~8 s on a busy 2-core machine
FRESH = "MACFORMER_TEST_FRESH_PROCESS"  # set in the fresh process the fork case runs in
ROWS = ("softmax", "rfa", "rmfa-exp-causal")  # run in this order (same length, plan order)


@pytest.mark.slow
def test_a_run_over_its_time_limit_fails_alone_and_the_sweep_goes_on(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results"
    data.mkdir()
    # The first run waits for this flock to generate its data: it hangs, as a stuck run
    # does, until its time limit. Released once it failed, so that the next ones generate.
    stall = open(data / ".generate-listops.lock", "w")
    fcntl.flock(stall, fcntl.LOCK_EX)
    driver = start_driver(data, results, "--tasks", "listops", "--rows", *ROWS, "--jobs", "1",
                          "--run-timeout", str(LIMIT_S))
    lines = []
    for line in driver.stdout:
        lines.append(line)
        if f"{ROWS[0]} seed0: failed" in line:
            stall.close()
    assert driver.wait(timeout=60) == 0, "".join(lines)
    out = "".join(lines)
    stalled = summary(run_dir(results, ROWS[0]))
    assert stalled["status"] == "failed" and stalled["stop_reason"] == TIME_LIMIT, out
    assert f"time limit of {LIMIT_S} s" in stalled["error"]
    for row in ROWS[1:]:
        assert summary(run_dir(results, row))["status"] == "completed", (row, out)
    # The runs after the timed-out one started: the sweep went on, not "interrupted by Ctrl-C".
    assert out.index(f"{ROWS[0]} seed0: failed") < out.index(f"{ROWS[1]} seed0: running")
    assert "finished in" in out and "2 completed, 1 failed (1 over the time limit)" in out
    assert "Ctrl-C" not in out and "interrupted" not in out


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["fork", "subprocess"])
def test_a_run_stopped_at_its_limit_mid_training_saves_and_a_rerun_continues_it(tmp_path, isolation, request):
    if isolation == "fork" and not os.environ.get(FRESH):
        # The driver forks from its own fresh process; a fork of this test process, after
        # hundreds of tests have left threads (and their locks) behind, can hang before it
        # trains. So the fork case runs in a fresh pytest process, as the driver would.
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               f"{__file__}::{request.node.name}"], env={**os.environ, FRESH: "1"},
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        return
    job = smoke_job(tmp_path / "data", tmp_path / "results", "rmfa-exp-causal", "task.max_steps=200",
                    "task.eval_every=100")
    handle = RunHandle(job, isolation, timeout_s=300)
    while handle.alive():
        # The limit falls due once training is under way (a fixed few seconds would race
        # the machine's load): the same path as at 300 s, just sooner.
        if handle.kill_at is None and steps_done(job.run_dir) >= 1:
            handle.deadline = time.monotonic()
        handle.wait(0.2)
    assert time.monotonic() - handle.t0 < TERM_GRACE_S  # it ended on SIGTERM, not SIGKILL
    record, _ = handle.finish()
    assert record["status"] == "failed" and record["stop_reason"] == TIME_LIMIT
    assert "time limit of 300 s" in record["error"] and 1 <= record["steps"] < 200
    assert summary(job.run_dir) == record
    last = job.run_dir / "checkpoints" / "last.ckpt"
    assert plan_run(job.run_dir, job.config_hash).checkpoint == last  # the re-run resumes it
    again, _ = run_job(job, isolation, None)
    assert again["status"] == "completed" and again["steps"] == 200
    assert again["resumed_from"] == str(last)
