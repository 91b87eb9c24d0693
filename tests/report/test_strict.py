"""A strict report: a summary that breaks the schema is listed as invalid and never shown
as a result; of two summaries of one run, the one its run folder's identity confirms is
shown; a rate timed over a few steps is marked."""

import json

from report_summaries import summary, table_after, write_summaries

from macformer.report import build_report, load_runs
from macformer.report.__main__ import main

HEADING = "# Accuracy on the Long Range Arena, profile `cpu`"


def listops_cell(md: str) -> str:
    return table_after(md, HEADING)[2].split(" | ")[1]


def test_a_boolean_accuracy_is_invalid_not_100_percent(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(test_accuracy=True),
        "cpu/text/softmax/seed0": summary(task="text"),
    })
    build_report(runs, tmp_path / "out")
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    assert listops_cell(md) == "not run" and "100.00" not in md
    assert ("1 summary file(s) are invalid (unreadable, or not what the summary schema allows) "
            "and are not in the tables: `runs/listops/softmax/seed0/summary.json` (test_accuracy "
            "must be a number in [0, 1] or null, got true).") in md


def test_a_misspelt_status_is_invalid_not_failed(tmp_path, capsys):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(status="complete"),
        "cpu/text/softmax/seed0": summary(task="text"),
    })
    assert main(["--runs", str(runs), "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    table = "\n".join(table_after(md, HEADING))
    assert listops_cell(md) == "not run" and "failed" not in table and "[^" not in md
    assert ("report: invalid, not reported: cpu/listops/softmax/seed0/summary.json: "
            "status='complete' is not allowed; allowed values: completed, stopped, failed, "
            "interrupted, missing") in capsys.readouterr().err


def test_the_summary_its_folder_identity_confirms_wins(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        # The run folder's own run, older...
        "cpu/listops/softmax/seed0": summary(test_accuracy=0.30, config_hash="aaaa000000000000",
                                             end_time="2024-05-01T10:00:00+00:00"),
        # ...and a later summary of other settings dropped into a copy of that folder.
        "copy/listops/softmax/seed0": summary(test_accuracy=0.90, config_hash="bbbb000000000000",
                                              end_time="2024-05-09T10:00:00+00:00"),
    })
    for folder in ("cpu", "copy"):
        (runs / folder / "listops" / "softmax" / "seed0" / "run_identity.json").write_text(
            json.dumps({"config_hash": "aaaa000000000000", "settings": {}}))
    loaded = load_runs(runs)
    assert list(loaded.frame["test_accuracy"]) == [0.30]
    build_report(runs, tmp_path / "out")
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    assert listops_cell(md) == "30.00 (n=1)[^1]" and "90.00" not in md
    assert ("[^1]: settings differ between summaries of this run: shown "
            "`runs/cpu/listops/softmax/seed0/summary.json` (config aaaa000000000000, the one its run "
            "folder's run_identity.json names); set aside `runs/copy/listops/softmax/seed0/summary.json` "
            "(config bbbb000000000000).") in md


def efficiency_rows(tmp_path, **fields) -> list[str]:
    runs = write_summaries(tmp_path / "runs", {"cpu/listops/softmax/seed0": summary(**fields)})
    build_report(runs, tmp_path / "out")
    md = (tmp_path / "out" / "cpu" / "efficiency.md").read_text()
    return [line for line in md.splitlines() if line.startswith("| softmax")] + [
        line for line in md.splitlines() if line.startswith("[^")]


def test_a_rate_timed_over_few_steps_is_marked(tmp_path):
    rows = efficiency_rows(tmp_path / "few", throughput_steps=2)
    assert rows[0].startswith("| softmax | 512 | 8 | 1,000 (few steps)[^1] |")
    assert rows[1] == ("[^1]: (few steps): timed over 2 training step(s), fewer than 5 once the "
                       "first ones are left out; a rate from so few steps is mostly warm-up and noise.")
    # Older summaries do not record it: the steps done bound it.
    legacy = {k: v for k, v in summary(steps=3).items() if k != "throughput_steps"}
    runs = write_summaries(tmp_path / "legacy" / "runs", {"cpu/listops/softmax/seed0": legacy})
    build_report(runs, tmp_path / "legacy" / "out")
    assert "1,000 (few steps)" in (tmp_path / "legacy" / "out" / "cpu" / "efficiency.md").read_text()
    # Enough steps: a plain number.
    assert efficiency_rows(tmp_path / "many", throughput_steps=195)[0].startswith(
        "| softmax | 512 | 8 | 1,000 | ")
