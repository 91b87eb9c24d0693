"""The real entry point in fresh processes: multirun (with a failing job), DDP, W&B offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_helpers import run_cli

from macformer.lifecycle.record import SUMMARY_NAME


def _summaries(results: Path) -> dict[str, dict]:
    return {str(p.parent.relative_to(results / "runs")): json.loads(p.read_text())
            for p in results.rglob(SUMMARY_NAME)}


@pytest.mark.slow
def test_multirun_dedupes_kernels_and_survives_a_failed_job(lra_data, tmp_path):
    results = tmp_path / "results"
    empty = tmp_path / "no_text"  # text data absent: that job fails, the others go on
    proc = run_cli("-m", "profile=smoke", "logger=csv", f"paths.results_dir={results}",
                   f"paths.data_dir={empty}", "task=listops,text", "attention=softmax,rfa",
                   "kernel=exp,inverse")
    runs = _summaries(results)
    assert set(runs) == {"smoke/listops/softmax/seed0", "smoke/listops/rfa/seed0",
                         "smoke/text/softmax/seed0", "smoke/text/rfa/seed0"}, proc.stderr[-3000:]
    assert proc.returncode != 0  # the sweep reports its failures
    for name, summary in runs.items():
        expected = "failed" if name.startswith("smoke/text") else "completed"
        assert summary["status"] == expected, (name, summary["error"])
    assert "make data" in runs["smoke/text/rfa/seed0"]["error"] or "macformer.data" in runs["smoke/text/rfa/seed0"]["error"]
    assert (results / "runs" / "smoke" / "listops" / "rfa" / "seed0" / "csv" / "metrics.csv").exists()


@pytest.mark.slow
def test_multirun_with_joblib_launcher(lra_data, tmp_path):
    results = tmp_path / "results"
    proc = run_cli("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "profile=smoke", "logger=none",
                   f"paths.results_dir={results}", f"paths.data_dir={lra_data}", "task=text",
                   "attention=softmax,rmfa", timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {s["status"] for s in _summaries(results).values()} == {"completed"}
    assert len(_summaries(results)) == 2


@pytest.mark.slow
def test_ddp_two_cpu_processes(lra_data, tmp_path):
    results = tmp_path / "results"
    proc = run_cli("profile=smoke", "logger=none", "trainer=ddp", "trainer.strategy=ddp_spawn",
                   "trainer.accelerator=cpu", "trainer.devices=2", f"paths.results_dir={results}",
                   f"paths.data_dir={lra_data}", "task=text", "attention=rmfa", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (summary,) = _summaries(results).values()
    assert summary["status"] == "completed" and summary["device"].endswith("× 2 processes")
    assert summary["steps"] == 6 and summary["test_accuracy"] is not None
    assert summary["train_tokens_per_second"] > 0


@pytest.mark.slow
def test_wandb_offline_logs_one_run(lra_data, tmp_path):
    results = tmp_path / "results"
    proc = run_cli("profile=smoke", "logger=wandb", f"paths.results_dir={results}",
                   f"paths.data_dir={lra_data}", "task=text", "attention=softmax", "seed=3",
                   env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = results / "runs" / "smoke" / "text" / "softmax" / "seed3"
    (offline,) = list((run_dir / "wandb").glob("offline-run-*"))  # one W&B run for the job
    # What the project logged, as bytes in the offline run file that `wandb sync` uploads:
    # the run name, the resolved config (its flattened keys and the run folder) and the
    # metrics (tests/wandb/ reads the whole record).
    (records,) = list(offline.glob("run-*.wandb"))
    data = records.read_bytes()
    for logged in (b"text-softmax-seed3", b"task.name", b"attention.name", str(run_dir).encode(),
                   b"val/accuracy", b"test/accuracy", b"train/loss"):
        assert logged in data, logged
    assert json.loads((run_dir / SUMMARY_NAME).read_text())["status"] == "completed"
