"""macformer-evaluate against a real smoke run: the same accuracy to the last digit here,
a tolerance elsewhere, and a refusal for a checkpoint or a test split that is not the run's."""

from __future__ import annotations

import json
from pathlib import Path

from macformer.evaluation.__main__ import main
from macformer.lifecycle.record import read_summary


def evaluate(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def edit_summary(run: Path, **changes) -> dict:
    summary = read_summary(run)
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            summary[outer][inner] = value
        else:
            summary[key] = value
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return summary


def test_the_recorded_accuracy_to_the_last_digit(smoke_run, capsys):
    data, run = smoke_run
    summary = read_summary(run)
    assert len(summary["test_split_sha256"]) == 64
    code, out, err = evaluate(capsys, run, "--data-dir", data)
    assert code == 0, out + err
    assert f"recorded {summary['test_accuracy']!r}, re-tested {summary['test_accuracy']!r}" in out
    assert "equal (the run's own CPU environment" in out


def test_a_checkpoint_path_finds_its_run(smoke_run, capsys):
    data, run = smoke_run
    code, out, _ = evaluate(capsys, run / read_summary(run)["best_checkpoint"], "--data-dir", data)
    assert code == 0 and ": equal" in out


def test_a_tampered_checkpoint_is_refused_in_one_line(own_copy, capsys):
    data, run = own_copy
    checkpoint = run / read_summary(run)["best_checkpoint"]
    blob = bytearray(checkpoint.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(blob))
    code, out, err = evaluate(capsys, run, "--data-dir", data)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "is not the recorded best checkpoint's" in err and "refusing" in err


def test_another_checkpoint_of_the_run_is_refused(own_copy, capsys):
    data, run = own_copy
    code, _, err = evaluate(capsys, run / "checkpoints" / "last.ckpt", "--data-dir", data)
    assert code == 2 and "not the recorded best checkpoint's" in err


def test_a_changed_test_split_fails(own_copy, capsys):
    data, run = own_copy
    [test_file] = [p for p in (data / "generated").rglob("*test*") if p.is_file() and p.suffix == ".tsv"]
    lines = test_file.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1].split("\t")
    first[-1] = str((int(first[-1]) + 1) % 10)  # another label for the first test example
    test_file.write_text("\n".join([header, "\t".join(first), *lines[2:]]) + "\n", encoding="utf-8")
    code, out, _ = evaluate(capsys, run, "--data-dir", data)
    assert code == 1 and "the test split changed" in out


def test_elsewhere_a_tolerance_from_the_runs_own_margins(own_copy, capsys):
    data, run = own_copy
    edit_summary(run, **{"environment.numpy": "0.0"})  # as if made with another numpy
    code, out, _ = evaluate(capsys, run, "--data-dir", data)
    assert code == 0, out
    assert "another environment than the run's (numpy 0.0 → " in out and "within that tolerance" in out


def test_elsewhere_a_real_difference_fails(own_copy, capsys):
    data, run = own_copy
    summary = read_summary(run)
    edit_summary(run, **{"environment.numpy": "0.0"},
                 test_accuracy=(summary["test_accuracy"] + 0.25) % 1.0)
    code, out, _ = evaluate(capsys, run, "--data-dir", data)
    # A smoke model's logits are nearly tied on some examples, but never on a quarter of 32.
    assert code == 1 and "OUTSIDE that tolerance" in out


def test_settings_that_changed_since_are_refused(own_copy, capsys):
    data, run = own_copy
    edit_summary(run, config_hash="0123456789abcdef")
    code, _, err = evaluate(capsys, run, "--data-dir", data)
    assert code == 2 and "now give other settings (config_hash" in err


def test_an_unfinished_run_is_refused(own_copy, capsys):
    data, run = own_copy
    edit_summary(run, status="stopped")
    code, _, err = evaluate(capsys, run, "--data-dir", data)
    assert code == 2 and "only a completed, tested run can be re-tested" in err
