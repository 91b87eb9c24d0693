"""A small real sweep for the reproduce tests: the smoke profile on ListOps, two rows, long
enough (200 steps) that the estimate extrapolates from a 20-step calibration and that a
run can be stopped in the middle."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROWS = ("softmax", "rmfa-exp-causal")
LONGER = ("task.max_steps=200", "task.eval_every=50")
SAME = ("status", "steps", "test_accuracy", "val_accuracy", "best_step", "test_examples")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def reproduce(data: Path, results: Path, *args: str, timeout: float = 300) -> str:
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
               "--rows", *ROWS, "--data-dir", str(data), "--results-dir", str(results),
               "--calibration-steps", "20", "--progress-every", "0", "--threads", "1", *args, *LONGER]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def summaries(results: Path) -> dict[str, dict]:
    """row → summary.json of the runs under results/runs/smoke/listops/."""
    root = results / "runs" / "smoke" / "listops"
    return {row: json.loads((root / row / "seed0" / "summary.json").read_text()) for row in ROWS}


def wall_ratio(out: str) -> float:
    """actual / estimated sweep wall time, from the closing table."""
    return float(re.search(r"Sweep wall time: .* actual, .* estimated \(([\d.]+)x\)", out).group(1))
