"""The aggregator on hand-written summaries: exact table contents, failed / missing /
unreadable runs, de-duplication, determinism and atomic writes."""

import csv
import io
import json

import pytest
from report_summaries import MISSING_TEXT, summary, table_after, write_summaries

from macformer.atomic import write_bytes
from macformer.report import OUTPUT_FILES, build_report, load_runs
from macformer.report.__main__ import main
from macformer.report.build import LATEX_FILES
from macformer.report.published import check_published, published_accuracy


def read(path):
    return path.read_text(encoding="utf-8")


def csv_rows(path):
    return list(csv.DictReader(io.StringIO(read(path))))


def test_accuracy_table_exact(hand_written_runs, tmp_path):
    out = tmp_path / "out"
    build_report(hand_written_runs, out)
    md = read(out / "cpu" / "accuracy.md")
    assert md.startswith("# Accuracy on the Long Range Arena, profile `cpu`\n")
    assert table_after(md, "# Accuracy on the Long Range Arena, profile `cpu`") == [
        "| variant | ListOps | Text | Retrieval | Image | Pathfinder | Avg |",
        "|:---|---:|---:|---:|---:|---:|---:|",
        "| softmax | 32.00 ± 2.83 (n=2) | missing[^1] | not run | not run | 55.00 (n=1) "
        "| 43.50 (2/5 tasks) |",
        "| rfa (non-causal) | not run | not run | not run | not run | 61.25 (n=1) "
        "| 61.25 (1/5 tasks) |",
        "| rmfa-exp (causal) | 36.50 (n=1) +1 failed[^2] | missing[^1] | not run | not run "
        "| not run | 36.50 (1/5 tasks) |",
        "| rmfa-inverse-noppsbn (causal) | failed[^3] | not run | not run | not run | not run "
        "| n/a (0/5 tasks) |",
    ]
    paper = read(out / "paper" / "accuracy.md")
    assert table_after(paper, "# Accuracy on the Long Range Arena, profile `paper`")[2] == (
        "| softmax | 37.37 (n=1) | not run | not run | not run | not run | 37.37 (1/5 tasks) |")
    assert "profile `cpu`" not in paper and "cpu/" not in paper  # one profile per folder
    footnotes = [line for line in md.splitlines() if line.startswith("[^")]
    assert footnotes == [
        f"[^1]: Text data missing: {MISSING_TEXT}",
        "[^2]: failed, seed 1, 17 / 200 steps: FloatingPointError: loss is nan at step 17 "
        "(`runs/listops/rmfa-exp/seed1/summary.json`)",
        "[^3]: failed, seed 0, 3 / 200 steps: ValueError: |q·k| = 1.7 >= radius 1 "
        "(`runs/listops/rmfa-inverse-noppsbn/seed0/summary.json`)",
    ]
    # The unreadable summary is named, not dropped silently.
    assert "`runs/image/softmax/seed0/summary.json` (unreadable:" in md


def test_accuracy_csv_exact(hand_written_runs, tmp_path):
    build_report(hand_written_runs, tmp_path / "out")
    rows = csv_rows(tmp_path / "out" / "cpu" / "accuracy.csv")
    assert [(r["profile"], r["label"], r["attention"], r["kernel"], r["ppsbn"],
             r["num_features"], r["causal"], r["protocol"], r["tag"]) for r in rows] == [
        ("cpu", "softmax", "softmax", "", "False", "", "", "lra", ""),
        ("cpu", "rfa (non-causal)", "rfa", "", "", "128", "False", "lra", ""),
        ("cpu", "rmfa-exp (causal)", "rmfa", "exp", "True", "128", "True", "lra", ""),
        ("cpu", "rmfa-inverse-noppsbn (causal)", "rmfa", "inverse", "False", "128", "True",
         "lra", ""),
    ]
    softmax = rows[0]
    assert {k: softmax[k] for k in softmax if k.startswith(("listops", "text", "average"))} == {
        "listops_mean": "32.0000", "listops_std": "2.8284", "listops_seeds": "2",
        "listops_stopped": "0", "listops_failed": "0", "listops_status": "ok",
        "listops_chance": "17.0000", "listops_at_chance": "False",
        "text_mean": "", "text_std": "", "text_seeds": "0", "text_stopped": "0",
        "text_failed": "0", "text_status": "missing", "text_chance": "50.0000",
        "text_at_chance": "",
        "average": "43.5000", "average_tasks": "2",
    }
    assert rows[2]["listops_status"] == "partial" and rows[2]["listops_failed"] == "1"
    assert rows[3]["listops_status"] == "failed" and rows[3]["retrieval_status"] == "not run"
    assert "pathx_mean" not in softmax  # no Path-X run, no Path-X column


def test_efficiency_exact(hand_written_runs, tmp_path):
    build_report(hand_written_runs, tmp_path / "out")
    rows = csv_rows(tmp_path / "out" / "cpu" / "efficiency.csv")
    rows += csv_rows(tmp_path / "out" / "paper" / "efficiency.csv")
    got = [(r["profile"], r["column"], r["attention"], r["device"], r["seeds"],
            r["tokens_per_second"], r["speedup_vs_softmax"], r["peak_memory_mb"],
            r["memory_vs_softmax"]) for r in rows]
    assert got == [
        ("cpu", "listops", "softmax", "cpu, 2 threads", "2", "1100.0000", "1.0000", "600.0000",
         "1.0000"),
        ("cpu", "listops", "rmfa", "cpu, 2 threads", "1", "3300.0000", "3.0000", "150.0000",
         "0.2500"),
        # softmax on Pathfinder ran on another device: no ratio for rfa.
        ("cpu", "pathfinder", "softmax", "cpu, 1 thread", "1", "800.0000", "1.0000", "900.0000",
         "1.0000"),
        ("cpu", "pathfinder", "rfa", "cpu, 2 threads", "1", "1000.0000", "", "500.0000", ""),
        ("paper", "listops", "softmax", "NVIDIA H100", "1", "1000.0000", "1.0000", "500.0000",
         "1.0000"),
    ]
    md = read(tmp_path / "out" / "cpu" / "efficiency.md")
    assert table_after(md, "## ListOps")[0] == (
        "| variant | length | batch | tokens/s | × softmax | peak MiB | mem × softmax | train s "
        "| device | path | seeds |")
    # These hand-written summaries predate the attention_path key: no path is shown.
    assert table_after(md, "## ListOps")[3] == (
        "| rmfa-exp (causal) | 512 | 8 | 3,300 | 3.00× | 150 | 0.25× | 60 | cpu, 2 threads | — | 1 |")
    # Softmax ran on another device: the speed and memory columns are marked not comparable.
    assert table_after(md, "## Pathfinder")[0] == (
        "| variant | length | batch | tokens/s[^1] | × softmax[^1] | peak MiB[^1] "
        "| mem × softmax[^1] | train s | device | path | seeds |")
    assert table_after(md, "## Pathfinder")[3] == (
        "| rfa (non-causal) | 1,024 | 8 | 1,000 | n/a | 500 | n/a | 60 | cpu, 2 threads | — | 1 |")
    assert "[^1]: not comparable across rows: tokens/s, peak MiB and the × softmax ratios" in md


def test_published_beside_ours(hand_written_runs, tmp_path):
    build_report(hand_written_runs, tmp_path / "out")
    md = read(tmp_path / "out" / "paper" / "published.md")
    assert "**Published numbers are copied from the papers, not measured here**" in md
    paper = table_after(md, "# Ours beside the published LRA numbers, profile `paper`")
    assert paper[2].startswith("| softmax | Transformer | LRA paper (JAX) | ")
    assert "| 37.37 / 36.37 (Δ +1.00) | not run / 64.27 |" in paper[2]
    assert "| 37.37 / 37.10 (Δ +0.27) |" in paper[3]  # Nyströmformer port
    assert "| 37.37 / 38.37 (Δ -1.00) |" in paper[4]  # Skyformer port
    assert paper[2].endswith("| n/a (1/5 tasks) / 54.39 |")
    cpu_md = read(tmp_path / "out" / "cpu" / "published.md")
    assert "The `cpu` profile does not follow the published protocol" in cpu_md
    cpu = table_after(cpu_md, "# Ours beside the published LRA numbers, profile `cpu`")
    rfa = [line for line in cpu if line.startswith("| rfa (non-causal) |")]
    assert len(rfa) == 3 and all("approximate: RFA-like" in line for line in rfa)
    assert "| 61.25 / 77.05 (Δ -15.80) |" in rfa[0]
    # rmfa has no published counterpart: no row.
    assert not any(line.startswith("| rmfa") for line in cpu)
    rows = csv_rows(tmp_path / "out" / "paper" / "published.csv")
    skyformer_softmax = [r for r in rows if r["profile"] == "paper" and r["task"] == "listops"
                         and r["published_source"].startswith("Skyformer")]
    assert [(r["ours"], r["published"], r["delta"]) for r in skyformer_softmax] == [
        ("37.3700", "38.37", "-1.0000")]


def test_published_numbers_are_consistent_data():
    assert check_published() == []
    table = published_accuracy()
    assert set(table["source"]) == {"LRA paper (JAX)", "Nyströmformer port (PyTorch)",
                                    "Skyformer port (PyTorch)"}
    assert (table["reference"] != "").all()
    lra = table[(table["source"] == "LRA paper (JAX)") & (table["model"] == "Transformer")]
    assert lra.iloc[0]["pathx"] == "fail"


def test_path_x_column_and_published_fail(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "a": summary(task="pathx", test_accuracy=0.6, chance_accuracy=0.5, profile="paper"),
    })
    build_report(runs, tmp_path / "out")
    md = read(tmp_path / "out" / "paper" / "accuracy.md")
    assert table_after(md, "# Accuracy on the Long Range Arena, profile `paper`")[0].endswith(
        "| Pathfinder | Path-X | Avg |")
    assert "| 60.00 (n=1) | n/a (0/5 tasks) |" in md  # Path-X stays out of the average
    published = read(tmp_path / "out" / "paper" / "published.md")
    assert "| 60.00 / fail |" in published and "| 60.00 / n/r |" in published


def test_dedup_prefers_completed_then_latest(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "old-completed": summary(test_accuracy=0.2, end_time="2024-01-01T00:00:00"),
        "new-completed": summary(test_accuracy=0.4, end_time="2024-02-01T00:00:00"),
        "newest-failed": summary(status="failed", error="boom", test_accuracy=None,
                                 end_time="2024-03-01T00:00:00"),
    })
    loaded = load_runs(runs)
    assert len(loaded.frame) == 1 and loaded.superseded == 2
    assert loaded.frame.iloc[0]["path"] == "new-completed/summary.json"


def test_invalid_summaries_are_reported(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "percent": summary(test_accuracy=37.1),  # a percentage where a fraction belongs
        "list": "[1, 2]",
        "no-task": json.dumps({"attention": "softmax", "status": "completed"}),
    })
    loaded = load_runs(runs)
    assert loaded.frame.empty
    assert [(p.path, p.reason) for p in loaded.problems] == [
        ("list/summary.json", "not a JSON object"),
        ("no-task/summary.json", "no 'task'"),
        ("percent/summary.json", "test_accuracy must be a number in [0, 1] or null, got 37.1"),
    ]


def test_meaningless_fields_are_dropped(tmp_path):
    """softmax has no kernel, features or causal form even if a summary carries them;
    a ppSBN flag left out is the attention's default (off for softmax)."""
    runs = write_summaries(tmp_path / "runs", {
        "a": summary(kernel="exp", num_features=128, causal=True),
    })
    row = load_runs(runs).frame.iloc[0]
    assert row["kernel"] is None and row["num_features"] is None and row["causal"] is None
    assert row["ppsbn"] is False


def test_feature_count_column_only_when_it_varies(tmp_path):
    rmfa = {"attention": "rmfa", "kernel": "exp", "ppsbn": True}
    runs = write_summaries(tmp_path / "runs", {
        "a": summary(**rmfa, num_features=64), "b": summary(**rmfa, num_features=128),
    })
    build_report(runs, tmp_path / "out")
    table = table_after(read(tmp_path / "out" / "cpu" / "accuracy.md"), "# Accuracy on the "
                        "Long Range Arena, profile `cpu`")
    assert [line.split(" | ")[0] for line in table[2:]] == [
        "| rmfa-exp-D64 (non-causal)", "| rmfa-exp-D128 (non-causal)"]


def test_twice_gives_identical_files_and_no_temporaries(hand_written_runs, tmp_path):
    out = tmp_path / "out"
    assert main(["--runs", str(hand_written_runs), "--out", str(out), "--format", "latex"]) == 0
    first = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    copies = [f"cpu/runs/{run}/summary.json" for run in (
        "listops/softmax/seed0", "listops/softmax/seed1", "listops/rmfa-exp/seed0",
        "listops/rmfa-exp/seed1", "listops/rmfa-inverse-noppsbn/seed0", "pathfinder/rfa/seed0",
        "pathfinder/softmax-old/seed0", "pathfinder/softmax/seed0", "text/softmax/seed0",
        "text/rmfa-exp/seed0", "image/softmax/seed0")] + ["paper/runs/listops/softmax/seed0/summary.json"]
    assert sorted(first) == sorted(
        [f"{profile}/{name}" for profile in ("cpu", "paper") for name in (
            *OUTPUT_FILES, *LATEX_FILES, "curves_listops.png")] + ["cpu/curves_pathfinder.png"]
        + copies)
    assert main(["--runs", str(hand_written_runs), "--out", str(out), "--format", "latex"]) == 0
    second = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first == second


def test_latex_tables(hand_written_runs, tmp_path):
    build_report(hand_written_runs, tmp_path / "out", latex=True)
    tex = read(tmp_path / "out" / "cpu" / "accuracy.tex")
    # The accuracy table and the provenance table.
    assert tex.count(r"\begin{tabular}") == 2 and r"\usepackage" not in tex
    assert (r"softmax & 32.00 $\pm$ 2.83 (n=2) & missing\textsuperscript{1} & "
            r"not run & not run & 55.00 (n=1) & 43.50 (2/5 tasks) \\") in tex
    assert (r"\item[2] failed, seed 1, 17 / 200 steps: FloatingPointError: loss is nan at "
            "step 17") in tex
    assert r"\caption{LRA test accuracy (\%), profile cpu: mean $\pm$ std over seeds}" in tex


def test_profile_filter(hand_written_runs, tmp_path, capsys):
    main(["--runs", str(hand_written_runs), "--out", str(tmp_path / "out"), "--profile", "cpu"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cpu"]
    assert "profile `cpu`" in read(tmp_path / "out" / "cpu" / "accuracy.md")
    assert "profiles: cpu\n" in capsys.readouterr().out


def test_atomic_write_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "accuracy.md"
    write_bytes(target, b"old table\n")
    with pytest.raises(TypeError):
        write_bytes(target, "not bytes")  # fails while writing the temporary file
    assert target.read_bytes() == b"old table\n"
    assert [p.name for p in tmp_path.iterdir()] == ["accuracy.md"]
