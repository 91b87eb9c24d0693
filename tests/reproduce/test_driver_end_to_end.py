"""`python -m macformer.reproduce --profile smoke` end to end on generated data (the
entry point `make reproduce-lra PROFILE=smoke` calls after install and data), its
resumption, and a run that fails without stopping the sweep. (Without calibration, which
test_sweep_on_slots.py covers: a smoke run is no longer than its calibration would be.)"""

import csv
import json
import subprocess
import sys
from dataclasses import replace

import pytest

from macformer.report import OUTPUT_FILES
from macformer.reproduce.progress import Progress, clock
from macformer.reproduce.runner import read_summary, run_job
from macformer.reproduce.sweep import SWEEPS, Row, Sweep, choose_profile, plan, sweeps_of

ROWS = ["softmax", "rfa", "kernelized-exp-causal", "rmfa-exp-causal", "rmfa-exp-noncausal",
        "rmfa-exp-noppsbn-causal"]
# The report's label of each row: the attention's form named.
LABELS = ["softmax", "rfa (non-causal)", "kernelized-exp (causal)", "rmfa-exp (causal)",
          "rmfa-exp (non-causal)", "rmfa-exp-noppsbn (causal)"]


def reproduce(tmp_path, *args, rc: int = 0):
    """The driver's stdout (its stderr when it is expected to refuse: rc 2)."""
    command = [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke",
               "--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"),
               "--tasks", "listops", "text", "--calibration-steps", "0", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == rc, done.stdout + done.stderr
    return done.stdout if rc == 0 else done.stderr


@pytest.mark.slow
def test_smoke_end_to_end_then_resume(tmp_path):
    out = reproduce(tmp_path)
    assert "reproduce: profile smoke: PROFILE=smoke was asked for." in out
    n = len(SWEEPS["smoke"].rows)
    # text is missing: the counter counts the n runs that train, from the first
    assert f"[0/{n}] elapsed" in out and f"[{n}/{n}]" in out and "remaining ≈" in out
    assert f"/{2 * n}]" not in out
    assert "reproduce: finished in" in out and f"{n} completed, {n} missing" in out
    results = tmp_path / "results" / "smoke"  # the smoke profile's own report folder
    assert sorted(p.name for p in results.parent.iterdir()) == ["runs", "smoke"]
    for name in OUTPUT_FILES:
        assert (results / name).stat().st_size > 0, name
    for name in ("accuracy.png", "efficiency.png", "curves_listops.png"):
        assert (results / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    rows = list(csv.DictReader((results / "accuracy.csv").open()))
    assert [r["label"] for r in rows] == LABELS
    # The ListOps column, whatever data set the smoke profile records for it.
    [listops] = [k[:-len("_status")] for k in rows[0] if k.startswith("listops")
                 and k.endswith("_status")]
    for row in rows:
        assert row["profile"] == "smoke"
        assert row[f"{listops}_status"] == "ok" and 0 <= float(row[f"{listops}_mean"]) <= 100
        assert row["text_status"] == "missing"  # offline: reported, with the fetch command
        assert row["pathfinder_status"] == "not run"  # not requested
    accuracy = (results / "accuracy.md").read_text()
    assert "Text data missing: needs network: `python -m macformer.data.prepare" in accuracy
    assert "no learning curve" not in accuracy  # every trained run logged validation accuracy
    efficiency = list(csv.DictReader((results / "efficiency.csv").open()))
    assert len(efficiency) == n and all(float(r["tokens_per_second"]) > 0 for r in efficiency)
    assert "| softmax | Transformer | LRA paper (JAX) |" in (
        results / "published.md").read_text()

    # The same command again: everything is skipped, nothing trains. A sweep narrowed by
    # --tasks is not the profile's whole plan: its report goes beside the first one.
    before = (results / "accuracy.md").read_text()
    again = reproduce(tmp_path)
    assert again.count("completed before") == n and ": running" not in again
    assert f"its report went to {results.parent / 'partial' / 'smoke'}/" in again
    assert (results / "accuracy.md").read_text() == before
    assert (results.parent / "partial" / "smoke" / "accuracy.md").stat().st_size > 0

    # A completed run of other settings (an older profile, say) is never deleted unasked:
    # refused in one line, nothing run; --force replaces it and says so.
    run_dir = results.parent / "runs" / "smoke" / "listops" / "softmax" / "seed0"
    stale = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**stale, "config_hash": "0" * 16}))
    refused = reproduce(tmp_path, rc=2)
    assert refused.count("\n") == 1 and str(run_dir) in refused and "--force" in refused
    assert (run_dir / "checkpoints" / "best.ckpt").exists()
    third = reproduce(tmp_path, "--force")
    assert "--force: replacing listops softmax seed0: its completed run of other settings" in third
    assert third.count("completed before") == n - 1 and "starting it afresh" in third
    assert "[0/1] elapsed" in third and "[1/1]" in third  # one run to train
    assert json.loads((run_dir / "summary.json").read_text())["config_hash"] == stale["config_hash"]


def test_smoke_profile_runs_each_kind_of_row():
    assert [r.name for r in SWEEPS["smoke"].rows] == ROWS


def test_a_run_that_dies_is_reported_failed_and_the_sweep_goes_on(tmp_path):
    sweep = Sweep("smoke", ("listops",), (Row("rmfa-bad", ("attention=rmfa",)),),
                  seeds=(0,), isolation="subprocess", run_timeout_s=300, why="test")
    [job] = plan(sweep, (f"paths.data_dir={tmp_path / 'data'}",
                         f"paths.results_dir={tmp_path / 'results'}"))
    # A setting the run itself refuses (the driver's plan would refuse it before the sweep).
    job = replace(job, overrides=(*job.overrides, "attention.options.num_features=-1"))
    summary, seconds = run_job(job, "subprocess", 300)
    assert summary["status"] == "failed" and seconds > 0
    assert "num_features" in summary["error"]  # the config check's message, from the log
    assert read_summary(job.run_dir) == summary  # written where the report finds it
    assert summary["task"] == "listops" and summary["attention"] == "rmfa"


def test_profiles_and_rows():
    assert choose_profile("smoke")[0] == "smoke"
    profile, why = choose_profile("auto")
    assert profile in ("cpu", "paper") and ("GPU" in why)
    # The paper profile's default is the paper's comparison; the rest are groups to add.
    names = [r.name for s in sweeps_of("paper", ("core", "ablations", "pathx")) for r in s.rows]
    assert names[:2] == ["softmax", "rfa"] and len(set(names)) == 16
    assert "rmfa-trigh-noppsbn-causal" in names and "kernelized-trigh-causal" in names
    assert "rmfa-exp-noncausal" in names and "kernelized-exp-noncausal" in names
    assert sweeps_of("paper", ("pathx",))[0].tasks == ("pathx",)


def test_progress_estimate():
    progress = Progress(["listops", "listops", "pathfinder", "pathfinder"])
    assert progress.remaining() is None
    progress.finish("listops", 10.0)
    progress.finish("pathfinder", 30.0)
    assert progress.remaining() == 40.0  # one more of each at its own task's pace
    assert progress.line().startswith("[2/4] elapsed ")
    assert clock(3725) == "1:02:05" and clock(65) == "1:05"
