"""macformer-reproduce --verify on a real smoke report: the committed cell re-run from its
recorded command line agrees to the last digit, and an edited committed summary fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from macformer.report.build import build_report
from macformer.reproduce.__main__ import main


@pytest.fixture(scope="module")
def committed_report(smoke_run, tmp_path_factory) -> tuple[Path, Path]:
    """(data folder, report folder) as a sweep commits it: tables beside runs/<task>/<row>/seed<k>/."""
    data, run = smoke_run
    out = tmp_path_factory.mktemp("report")
    build_report(run.parents[3], out, profile="smoke")  # <results>/runs/<profile>/<task>/<row>/seed<k>
    assert (out / "smoke" / "runs" / "listops" / "softmax" / "seed0" / "overrides.yaml").is_file()
    return data, out / "smoke"


def verify(capsys, report: Path, data: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["--verify", str(report), "--data-dir", str(data), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def edited_copy(report: Path, tmp_path: Path, **changes) -> Path:
    copy = tmp_path / "smoke"
    shutil.copytree(report, copy)
    path = copy / "runs" / "listops" / "softmax" / "seed0" / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary.update(changes)
    path.write_text(json.dumps(summary), encoding="utf-8")
    return copy


def test_the_committed_cell_agrees_to_the_last_digit(committed_report, capsys, tmp_path):
    data, report = committed_report
    code, out, err = verify(capsys, report, data, "--verify-dir", str(tmp_path / "rerun"))
    assert code == 0, out + err
    assert "listops/softmax/seed0 (the cheapest committed cell" in out
    for key in ("steps", "best_step", "val_accuracy", "test_accuracy"):
        assert f"verify: {key}: committed" in out and f"{key}: committed" in out
    assert "NOT equal" not in out and "PASSED" in out
    assert list((tmp_path / "rerun").rglob("summary.json"))  # --verify-dir is kept


def test_an_edited_accuracy_fails(committed_report, capsys, tmp_path):
    data, report = committed_report
    summary = json.loads((report / "runs/listops/softmax/seed0/summary.json").read_text())
    edited = edited_copy(report, tmp_path, test_accuracy=round(1 - summary["test_accuracy"], 3))
    code, out, _ = verify(capsys, edited, data, "--cell", "listops/softmax/seed0")
    assert code == 1
    assert "test_accuracy: committed" in out and "NOT equal" in out and "FAILED" in out


def test_edited_steps_fail(committed_report, capsys, tmp_path):
    data, report = committed_report
    code, out, _ = verify(capsys, edited_copy(report, tmp_path, steps=5), data)
    assert code == 1 and "steps: committed 5, re-run 6: NOT equal" in out


def test_another_environment_is_held_to_the_test_sets_tolerance(committed_report, capsys, tmp_path):
    data, report = committed_report
    summary = json.loads((report / "runs/listops/softmax/seed0/summary.json").read_text())
    environment = {**summary["environment"], "numpy": "0.0"}
    code, out, _ = verify(capsys, edited_copy(report, tmp_path, environment=environment), data)
    assert code == 0 and "another environment than the committed run's (numpy 0.0 → " in out
    # the same code on the same CPU: still equal, and said so, beside the looser bound it was held to
    assert "equal to the last digit, within 3 standard errors of the test set" in out
    assert "best_step: committed" not in out  # only steps are compared exactly across environments


def test_an_unknown_cell_or_no_records_is_one_line(committed_report, capsys, tmp_path):
    data, report = committed_report
    code, _, err = verify(capsys, report, data, "--cell", "listops/rfa/seed0")
    assert code == 2 and "not a completed committed cell; choose from listops/softmax/seed0" in err
    (tmp_path / "tables").mkdir()
    code, _, err = verify(capsys, tmp_path / "tables", data)
    assert code == 2 and err.count("\n") == 1 and "no runs/ folder" in err


def test_verify_flags_go_together(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--cell", "listops/softmax/seed0"])
    assert stop.value.code == 2 and "--cell goes with --verify REPORT_DIR" in capsys.readouterr().err


def test_the_cheapest_cell_counts_its_self_pretraining():
    from macformer.evaluation.record import RunRecord
    from macformer.reproduce.verify import choose_cell

    def record(train_seconds, pretraining_seconds=None):
        pretraining = None if pretraining_seconds is None else {"seconds": pretraining_seconds}
        return RunRecord(Path("."), {"train_seconds": train_seconds, "pretraining": pretraining}, ())

    cells = {"listops/softmax/seed0": record(150.0), "listops/softmax-spt-mlm/seed0": record(100.0, 80.0),
             "listops/rfa/seed0": record(None)}
    assert choose_cell(cells, None)[0] == "listops/softmax/seed0"  # 150 s beside 100 + 80 s
    cells["listops/softmax/seed0"] = record(190.0)
    assert choose_cell(cells, None)[0] == "listops/softmax-spt-mlm/seed0"
