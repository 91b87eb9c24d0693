"""The peakedness benchmark and the prepared GPU check, run for real at small sizes."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import attention_peakedness

ROOT = Path(__file__).resolve().parents[2]


def test_peakedness_table_respects_the_bounds_and_shows_the_causal_gap(tmp_path):
    df = attention_peakedness.main(["--quick", "--out", str(tmp_path)]).set_index("variant")
    assert {"peakedness.csv", "peakedness.md", "peakedness.png"} <= {p.name for p in tmp_path.iterdir()}
    for kernel in ("exp", "inverse"):
        for form in ("causal", "noncausal"):
            exact = df.loc[f"kernelized-{kernel}-{form}"]
            assert 1.0 < exact["max_min_ratio"] <= exact["ratio_bound"] < 1.5  # ppSBN's bound holds
            assert exact["entropy"] > 0.99  # nearly uniform
        # The non-causal forms hand every position nearly the same vector; causal ones do not.
        assert df.loc[f"rmfa-{kernel}-noncausal", "output_spread"] < 0.05
        assert df.loc[f"rmfa-{kernel}-causal", "output_spread"] > 5 * df.loc[f"rmfa-{kernel}-noncausal", "output_spread"]
    assert df.loc["softmax", "ratio_bound"] == math.inf and df.loc["softmax", "max_min_ratio"] > 100
    assert df.loc["rfa", "max_min_ratio"] <= df.loc["rfa", "ratio_bound"]


@pytest.mark.slow
def test_gpu_check_runs_its_rows_side_by_side_and_reports(tmp_path):
    """The GPU check's own code path, on CPU with the smoke profile and two of its rows."""
    env = {**os.environ, "WANDB_MODE": "offline"}
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu_listops_check.py", "--profile", "smoke", "--time-limit", "0",
         "--rows", "softmax", "rmfa-exp-causal", "--data-dir", str(tmp_path / "data"),
         "--results-dir", str(tmp_path / "results")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for row in ("softmax", "rmfa-exp-causal"):
        summary = json.loads((tmp_path / "results/runs/smoke/listops" / row / "seed0/summary.json").read_text())
        assert summary["status"] == "completed"
    assert summary["causal"] is True and summary["protocol"] == "lra"
    report = tmp_path / "results" / "smoke"
    assert (report / "accuracy.md").is_file() and (report / "curves_listops.png").is_file()
    assert "rmfa-exp-causal" in done.stdout
