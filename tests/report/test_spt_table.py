"""spt.md from real smoke runs: a self-pretrained row beside its twin from scratch, the
pretraining's time counted, the attention's uniformity after each stage."""

from __future__ import annotations

import pytest

from macformer.config import compose_run
from macformer.report.build import build_report
from macformer.report.spt_curves import LOSS, read_pretrain_curve
from macformer.train import train


def smoke(data, results, *extra):
    o = ["profile=smoke", "task=listops", "attention=softmax", "logger=csv", f"paths.data_dir={data}",
         f"paths.results_dir={results}", *extra]
    return train(compose_run(o), o)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("spt_report")
    scratch = smoke(root / "data", root / "results")
    spt = [smoke(root / "data", root / "results", "pretrain=mlm", f"seed={s}") for s in (0, 1)]
    build_report(root / "results" / "runs", root / "out", profile="smoke")
    return root / "out" / "smoke", scratch, spt


def test_the_twin_rows_side_by_side(report):
    folder, scratch, spt = report
    md = (folder / "spt.md").read_text()
    [row] = [line for line in md.splitlines() if line.startswith("| softmax |") and "(n=" in line]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].startswith(f"{100 * scratch['test_accuracy']:.2f}") and "(n=1)" in cells[1]
    assert "(n=2)" in cells[2] and cells[7] == "mlm"
    mean = 50 * (spt[0]["test_accuracy"] + spt[1]["test_accuracy"])
    assert cells[3] == f"{mean - 100 * scratch['test_accuracy']:+.2f}"
    pretrain = (spt[0]["pretraining"]["seconds"] + spt[1]["pretraining"]["seconds"]) / 2
    assert cells[5].startswith(f"{pretrain:,.0f} + ")


def test_the_attention_after_each_stage(report):
    folder, scratch, spt = report
    csv = (folder / "spt.csv").read_text().splitlines()
    header, [row] = csv[0].split(","), [line.split(",") for line in csv[1:]]
    values = dict(zip(header, row, strict=True))
    entropy = sum(layer["entropy"] for layer in scratch["attention_diagnostics"]["after_training"])
    assert float(values["entropy_scratch"]) == pytest.approx(entropy, abs=5e-5)  # smoke: one layer; the CSV keeps 4 decimals
    after = [s["attention_diagnostics"]["after_pretraining"][0]["entropy"] for s in spt]
    assert float(values["entropy_after_pretraining"]) == pytest.approx(sum(after) / 2, abs=5e-5)


def test_no_spt_table_without_self_pretrained_runs(report, tmp_path):
    folder, scratch, _ = report
    build_report(folder.parent.parent / "results" / "runs" / "smoke" / "listops" / "softmax",
                 tmp_path, profile="smoke")
    assert not (tmp_path / "smoke" / "spt.md").exists()
    assert "softmax +spt-mlm" in (folder / "accuracy.md").read_text()


def test_the_pretraining_curve_is_copied_and_drawn(report):
    folder, scratch, spt = report
    results = folder.parent.parent / "results" / "runs" / "smoke" / "listops" / "softmax-spt-mlm"
    for seed in (0, 1):
        original = read_pretrain_curve(results / f"seed{seed}")
        copied = read_pretrain_curve(folder / "runs" / "listops" / "softmax-spt-mlm" / f"seed{seed}")
        assert original[LOSS] and copied == original  # the validation rows, every one of them
        assert len(original[LOSS]) == spt[seed]["pretraining"]["steps"] // 3  # smoke: validated every 3 steps
    assert (folder / "curves_pretrain_listops.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (folder / "runs" / "listops" / "softmax" / "seed0" / "pretrain").exists()


def test_a_run_that_was_not_self_pretrained_has_no_pretraining_curve(report, tmp_path):
    folder, _, _ = report
    build_report(folder.parent.parent / "results" / "runs" / "smoke" / "listops" / "softmax",
                 tmp_path, profile="smoke")
    assert not list((tmp_path / "smoke").glob("curves_pretrain_*.png"))
    assert (tmp_path / "smoke" / "curves_listops.png").exists()
