"""Tiny real runs for the tests of the driver's running side: one smoke job to hand to
RunHandle / run_job, and the driver's command line (`python -m macformer.reproduce`) on
the smoke profile without calibration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from macformer.reproduce.sweep import SWEEPS, Sweep, plan

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def smoke_job(data: Path, results: Path, row: str = "softmax", *overrides: str, task: str = "listops"):
    """The one job of `row` on `task` under the smoke profile, with `overrides`."""
    [chosen] = [r for r in SWEEPS["smoke"].rows if r.name == row]
    sweep = Sweep("smoke", (task,), (chosen,), (0,), "fork", None, "test")
    [job] = plan(sweep, (f"paths.data_dir={data}", f"paths.results_dir={results}", *overrides))
    return job


def driver_command(data: Path, results: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--data-dir", str(data),
            "--results-dir", str(results), "--calibration-steps", "0", "--progress-every", "0",
            "--threads", "1", "--no-report", *args]


def run_driver(data: Path, results: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(driver_command(data, results, *args), capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def start_driver(data: Path, results: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(driver_command(data, results, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=ENV)


def run_dir(results: Path, row: str, task: str = "listops") -> Path:
    return results / "runs" / "smoke" / task / row / "seed0"


def summary(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def steps_done(folder: Path) -> int:
    """The step a training run has reached, from its progress.json (0 before training)."""
    try:
        return int(json.loads((folder / "progress.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return 0


def wait_until(condition, timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and mtime (what a writer would change)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}
