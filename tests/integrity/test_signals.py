"""Ctrl-C and SIGTERM, sent as real signals to real processes: recorded `interrupted` with
what happened, exit 130 / 143; the reproduce driver reports it and exits 130."""

from __future__ import annotations

import os
import signal

import pytest
from integrity_helpers import (
    LONG,
    last_line,
    output,
    run_dir,
    start_cli,
    summary_of,
    training_started,
    wait_for,
)


def _interrupt(process, signum, results, steps=3) -> int:
    wait_for(training_started(results, steps), "training", process)
    os.killpg(process.pid, signum)
    return process.wait(timeout=120)


@pytest.mark.slow
def test_sigterm_exits_143_and_ctrl_c_exits_130(listops_data, tmp_path):
    process = start_cli(listops_data, tmp_path, *LONG)  # SLURM's SIGTERM before its time limit
    code = _interrupt(process, signal.SIGTERM, tmp_path)
    first = summary_of(tmp_path)
    assert code == 143, output(process)[-3000:]
    assert first["status"] == "interrupted" and first["stop_reason"] == "SIGTERM"
    message = f"terminated by SIGTERM at step {first['steps']}; re-run the same command to resume"
    assert first["error"] == message
    assert last_line(output(process)) == f"interrupted: {message}"

    process = start_cli(listops_data, tmp_path, *LONG)  # resumes from that very step, then Ctrl-C
    code = _interrupt(process, signal.SIGINT, tmp_path, steps=first["steps"] + 3)
    second = summary_of(tmp_path)
    assert code == 130, output(process)[-3000:]
    assert second["resumed_from"] and second["steps"] > first["steps"]
    assert second["status"] == "interrupted" and second["stop_reason"] == "SIGINT"
    message = f"interrupted by Ctrl-C (SIGINT) at step {second['steps']}; re-run the same command to resume"
    assert second["error"] == message
    assert last_line(output(process)) == f"interrupted: {message}"


@pytest.mark.slow
def test_reproduce_driver_ctrl_c(listops_data, tmp_path):
    results = tmp_path / "results"
    args = ["--profile", "smoke", "--tasks", "listops", "--rows", "softmax", "--seeds", "0",
            "--data-dir", str(listops_data), "--results-dir", str(results), "--no-report", *LONG]
    driver = start_cli(listops_data, results, module="macformer.reproduce", args=args)
    code = _interrupt(driver, signal.SIGINT, results)  # to the group, as a terminal's Ctrl-C
    text = output(driver)
    assert code == 130, text[-3000:]
    summary = summary_of(results)
    assert summary["status"] == "interrupted"
    assert summary["error"] == (f"interrupted by Ctrl-C (SIGINT) at step {summary['steps']}; re-run "
                                f"the same command to resume")
    assert "reproduce: stopped by Ctrl-C after" in text and ": 1 interrupted" in text
    assert last_line(text) == ("reproduce: interrupted by Ctrl-C after 1 of 1 runs; run the same "
                               "command to resume (completed runs are skipped, the interrupted one "
                               "continues from its last checkpoint)")
    assert not (run_dir(results) / "run.lock").exists()  # the run ended before the driver did
