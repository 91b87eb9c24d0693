"""The real entry point in fresh processes: multirun (with a failing job), DDP, W&B offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_helpers import run_cli
from wandb_records import read_offline_run

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
                   f"paths.data_dir={lra_data}", "task=text", "attention=rmfa", "seed=3", "run.sweep_id=wb-test",
                   env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = results / "runs" / "smoke" / "text" / "rmfa-exp-causal" / "seed3"
    summary = json.loads((run_dir / SUMMARY_NAME).read_text())
    assert summary["status"] == "completed"
    assert (run_dir / "csv" / "metrics.csv").is_file()  # W&B beside the CSV, which the report reads
    # What the offline run file holds, read as the records `wandb sync` uploads.
    (folder,) = list((run_dir / "wandb").glob("offline-run-*"))  # one W&B run for the job
    logged = read_offline_run(folder)
    assert logged.run.display_name == "text-rmfa-exp-causal-seed3" and logged.run.run_group == "wb-test"
    assert logged.run.job_type == "smoke"
    assert {"task:text", "row:rmfa-exp-causal", "form:causal", "kernel:exp", "seed:3", "sweep:wb-test",
            "protocol:lra", "profile:smoke"} <= set(logged.run.tags)
    # The flattened settings and the run's facts, one column each.
    assert logged.config["task.name"] == "text" and logged.config["attention.options.kernel"] == "exp"
    assert logged.config["seed"] == 3 and logged.config["fact.seq_len"] == summary["seq_len"]
    # The outcome a runs table sorts by, as summary.json has it.
    for key in ("status", "val_accuracy", "test_accuracy", "best_step", "steps", "train_tokens_per_second",
                "peak_memory_mb", "stop_reason"):
        assert logged.summary[key] == summary[key], key
    assert logged.metrics["val/accuracy"].summary.max  # the summary's val/accuracy is the best one
    # The curves, and the attention diagnostics under their own panel section (diag/).
    assert {"val/accuracy", "val/loss", "test/accuracy", "train/loss"} <= logged.history_keys
    assert any(key.startswith("diag/") for key in logged.history_keys)


@pytest.mark.slow
def test_wandb_online_without_a_server_logs_offline_in_seconds(tmp_path):
    """WANDB_MODE=online and no W&B server (a closed loopback port stands for no network,
    so nothing leaves this machine): one warning, the run completes offline, in seconds
    (wandb's own retries gave up after about 110 s and failed the run)."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    results = tmp_path / "results"
    started = time.monotonic()
    proc = run_cli("profile=smoke", "logger=wandb", f"paths.results_dir={results}",
                   f"paths.data_dir={tmp_path / 'data'}", "task=listops", "attention=softmax",
                   env={"WANDB_MODE": "online", "WANDB_BASE_URL": url, "WANDB_API_KEY": "x" * 40,
                        "WANDB_SILENT": "true"}, timeout=300)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    run_dir = results / "runs" / "smoke" / "listops" / "softmax" / "seed0"
    console = proc.stdout + proc.stderr  # the run's log goes to stdout, as configured
    warnings = [line for line in console.splitlines() if "cannot be reached" in line]
    assert len(warnings) == 1 and url in warnings[0] and f"wandb sync {run_dir}/wandb/offline-run-*" in warnings[0]
    assert json.loads((run_dir / SUMMARY_NAME).read_text())["status"] == "completed"
    (folder,) = list((run_dir / "wandb").glob("offline-run-*"))
    assert read_offline_run(folder).run.display_name == "listops-softmax-seed0"
    assert elapsed < 90, elapsed  # a whole smoke run, far below wandb's 110 s of retries
