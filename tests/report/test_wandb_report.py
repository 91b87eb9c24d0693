"""`macformer-report --wandb`, offline: one W&B run per profile in the sweep's group, read
back from the records `wandb sync` would upload: the three tables with the CSVs' rows, the
plots and learning curves as images, and every run's validation curve as a table."""

import csv
import json
import os
import subprocess
import sys

import yaml
from report_summaries import write_metrics
from wandb_records import read_offline_run


def same_cell(logged, written: str) -> bool:
    """A W&B cell against the CSV's text: numbers as numbers (W&B keeps 17.0 for "17.0000")."""
    try:
        return float(logged) == float(written)
    except (TypeError, ValueError):
        return str(logged) == written


CURVES = {"cpu/listops/softmax/seed0": [(10, 0.2), (20, 0.3)], "cpu/listops/rmfa-exp/seed0": [(10, 0.25)]}


def test_report_run_holds_the_tables_plots_and_curves(hand_written_runs, tmp_path):
    for rel, points in CURVES.items():
        write_metrics(hand_written_runs / rel, points)
        hydra = hand_written_runs / rel / ".hydra"
        hydra.mkdir()
        (hydra / "config.yaml").write_text(yaml.safe_dump({"run": {"sweep_id": "reproduce-cpu"}}))
    out = tmp_path / "out"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    done = subprocess.run([sys.executable, "-m", "macformer.report", "--runs", str(hand_written_runs),
                           "--out", str(out), "--profile", "cpu", "--wandb"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = list((out / "cpu" / "wandb").glob("offline-run-*"))
    assert "report: cpu logged to W&B" in done.stdout

    logged = read_offline_run(folder)
    # Beside its runs: the sweep id most of them were trained under is the group.
    assert logged.run.display_name == "report-cpu" and logged.run.run_group == "reproduce-cpu"
    assert logged.run.job_type == "report"
    assert {"report", "profile:cpu", "sweep:reproduce-cpu"} <= set(logged.run.tags)

    # Each table as a W&B Table with the CSV's columns and rows.
    for name in ("accuracy", "efficiency", "published"):
        (saved,) = [f for f in logged.files if f.startswith(f"media/table/tables/{name}_")]
        table = json.loads((folder / "files" / saved).read_text())
        with (out / "cpu" / f"{name}.csv").open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert table["columns"] == rows[0], name
        assert all(same_cell(a, b) for got, want in zip(table["data"], rows[1:], strict=True)
                   for a, b in zip(got, want, strict=True)), name
    # Every plot of the report folder as an image, the curves under their own section.
    pngs = sorted(p.stem for p in (out / "cpu").glob("*.png"))
    images = sorted(f.split("/")[3].rsplit("_", 2)[0] for f in logged.files if f.startswith("media/images/"))
    assert pngs and sorted(p.removeprefix("curves_") for p in pngs) == images
    assert any(f.startswith("media/images/curves/listops_") for f in logged.files)
    # Every run's validation curve, one row per (task, row, seed, step), accuracy in %.
    (saved,) = [f for f in logged.files if f.startswith("media/table/curves/validation_")]
    table = json.loads((folder / "files" / saved).read_text())
    assert table["columns"] == ["task", "row", "seed", "step", "val_accuracy_pct"]
    points = sorted((row[1], row[3], row[4]) for row in table["data"] if row[0] == "listops")
    softmax = [p for p in points if p[0] == "softmax"]
    assert [(step, pct) for _, step, pct in softmax] == [(10, 20.0), (20, 30.0)]
    assert len(points) == 3
