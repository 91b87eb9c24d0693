"""Rows and columns that explain themselves: the attention's form, protocol and data
set in every label and header, chance level, learning curves, one look per variant."""

import csv
import io

from report_summaries import legacy, summary, table_after, write_metrics, write_summaries

from macformer.report import build_report
from macformer.report.curves import curve_plots, read_curve
from macformer.report.load import load_runs
from macformer.report.style import variant_style
from macformer.report.variants import variants_of

RMFA = {"attention": "rmfa", "kernel": "exp", "ppsbn": True, "num_features": 128}


def test_labels_name_the_form_protocol_and_tag(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "causal": summary(**RMFA, causal=True, test_accuracy=0.40),
        "noncausal": summary(**RMFA, causal=False, test_accuracy=0.39),
        "old": legacy(**{**RMFA, "kernel": "inverse"}, test_accuracy=0.38),  # before `causal`
        "noppsbn": summary(**{**RMFA, "ppsbn": False}, causal=True, test_accuracy=0.37),
        "authors": summary(**RMFA, causal=True, protocol="authors", test_accuracy=0.41),
        "tagged": summary(**RMFA, causal=True, tag="lr2", test_accuracy=0.42),
        "softmax": summary(test_accuracy=0.36),
        "performer": summary(attention="performer", num_features=128, causal=True,
                             test_accuracy=0.35),
    })
    build_report(runs, tmp_path / "out")
    out = tmp_path / "out" / "cpu"
    rows = table_after((out / "accuracy.md").read_text(),
                       "# Accuracy on the Long Range Arena, profile `cpu`")[2:]
    assert [r.split(" | ")[0][2:] for r in rows] == [
        "softmax", "performer (causal)", "rmfa-exp (causal)", "rmfa-exp (causal) #lr2",
        "rmfa-exp (causal) [authors]", "rmfa-exp (non-causal)", "rmfa-inverse (non-causal)",
        "rmfa-exp-noppsbn (causal)"]
    efficiency = (out / "efficiency.md").read_text()
    assert "| rmfa-exp (causal) [authors] | 512 |" in efficiency
    assert "| rmfa-inverse (non-causal) | 512 |" in efficiency
    labels = [r["label"] for r in csv.DictReader(io.StringIO((out / "efficiency.csv").read_text()))]
    assert "rmfa-exp-noppsbn (causal)" in labels and "performer (causal)" in labels


def test_a_dataset_other_than_lra_shows_and_is_never_compared(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "short": summary(dataset="listops-short", test_accuracy=0.40),
        "old": legacy(task="pathfinder", test_accuracy=0.60),  # data set not recorded
        "lra": summary(task="image", test_accuracy=0.42),
    })
    build_report(runs, tmp_path / "out")
    out = tmp_path / "out" / "cpu"
    md = (out / "accuracy.md").read_text()
    table = table_after(md, "# Accuracy on the Long Range Arena, profile `cpu`")
    assert table[0] == ("| variant | ListOps (listops-short) | Text | Retrieval | Image | "
                        "Pathfinder (data set not recorded) | Avg |")
    assert table[2] == "| softmax | 40.00 (n=1) | not run | not run | 42.00 (n=1) | 60.00 (n=1) " \
                       "| 42.00 (1/5 tasks) |"  # only LRA data in the average
    assert "**Not LRA data:** ListOps (listops-short), Pathfinder (data set not recorded)" in md
    published = (out / "published.md").read_text()
    row = table_after(published, "# Ours beside the published LRA numbers, profile `cpu`")[2]
    assert "| not LRA data / 36.37 | not run / 64.27 | not run / 57.46 | 42.00 / 42.44 (Δ -0.44) " \
           "| not LRA data / 71.40 |" in row
    rows = list(csv.DictReader(io.StringIO((out / "published.csv").read_text())))
    listops = [r for r in rows if r["task"] == "listops"]
    assert listops and all(r["ours"] == "" and r["delta"] == "" for r in listops)


def test_cells_at_chance_are_flagged(tmp_path):
    # p = 0.5, n = 100: the threshold is 0.5 + 2·0.05 = 60%.
    runs = write_summaries(tmp_path / "runs", {
        "at": summary(task="pathfinder", chance_accuracy=0.5, test_examples=100,
                      test_accuracy=0.60),
        "above": summary(task="pathfinder", attention="rfa", num_features=128,
                         chance_accuracy=0.5, test_examples=100, test_accuracy=0.61),
        # No chance fields: 1/10 classes and 500 examples, threshold 12.68%.
        "fallback-at": legacy(test_accuracy=0.12),
        "fallback-above": legacy(attention="rfa", num_features=128, test_accuracy=0.13),
    })
    build_report(runs, tmp_path / "out", latex=True)
    tex = (tmp_path / "out" / "cpu" / "accuracy.tex").read_text()
    assert r"12.00 (n=1) $\approx$chance\textsuperscript{1}" in tex
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    softmax, rfa = table_after(md, "# Accuracy on the Long Range Arena, profile `cpu`")[2:]
    assert "| 12.00 (n=1) ≈chance[^1] |" in softmax and "| 60.00 (n=1) ≈chance[^2] |" in softmax
    assert "| 13.00 (n=1) |" in rfa and "| 61.00 (n=1) |" in rfa
    assert ("[^1]: ≈chance: test accuracy not above chance by more than 2 binomial standard "
            "errors, i.e. not above p + 2·√(p(1−p)/n); ListOps: the summaries do not record "
            "the chance level, so p = 1/number of classes = 10.00% and n = 500 are assumed "
            "(threshold 12.68%)") in md
    assert ("[^2]: ≈chance: test accuracy not above chance by more than 2 binomial standard "
            "errors, i.e. not above p + 2·√(p(1−p)/n); Pathfinder: p = 50.00% (the most "
            "frequent label's share of the test set), n = 100 test examples, threshold "
            "60.00%.") in md


def test_learning_curves_from_the_csv_log(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(),
        "cpu/listops/softmax/seed1": summary(seed=1),
        "cpu/listops/rmfa-exp-causal/seed0": summary(**RMFA, causal=True),
        "cpu/listops/rmfa-exp-causal/seed1": summary(**RMFA, causal=True, seed=1,
                                                     status="failed", error="boom"),
        "cpu/pathfinder/softmax/seed0": summary(task="pathfinder"),
        "cpu/text/softmax/seed0": summary(task="text", status="missing", test_accuracy=None),
    })
    write_metrics(runs / "cpu/listops/softmax/seed0", [(100, 0.2), (200, 0.3)])
    # A resumed run logs step 200 twice (the later value wins), and its last line is cut.
    write_metrics(runs / "cpu/listops/softmax/seed1", [(100, 0.4), (200, 0.1), (200, 0.5)],
                  cut="0,30")
    write_metrics(runs / "cpu/listops/rmfa-exp-causal/seed0", [])  # header only, no rows
    (runs / "cpu/pathfinder/softmax/seed0/csv").mkdir(parents=True)
    (runs / "cpu/pathfinder/softmax/seed0/csv/metrics.csv").write_bytes(b"\xff\xfe garbage")
    assert read_curve(runs / "cpu/listops/softmax/seed0") == [(100, 20.0), (200, 30.0)]
    assert read_curve(runs / "cpu/listops/softmax/seed1") == [(100, 40.0), (200, 50.0)]
    assert read_curve(runs / "cpu/pathfinder/softmax/seed0") == []
    plots, no_curve = curve_plots(load_runs(runs), runs, "cpu")
    assert sorted(plots) == ["curves_listops.png", "curves_pathfinder.png"]  # text never ran
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in plots.values())
    assert no_curve == [
        "cpu/listops/rmfa-exp-causal/seed0/summary.json",
        "cpu/listops/rmfa-exp-causal/seed1/summary.json",
        "cpu/pathfinder/softmax/seed0/summary.json"]
    report = build_report(runs, tmp_path / "out")
    assert (tmp_path / "out" / "cpu" / "curves_listops.png") in report.written
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    assert ("3 run(s) have no learning curve (no `csv/metrics.csv` with validation accuracy "
            "in the run folder): `runs/listops/rmfa-exp-causal/seed0/summary.json`") in md


def test_a_variant_looks_the_same_everywhere(tmp_path):
    rows = {"softmax": {}, "rfa": {"attention": "rfa", "num_features": 128, "causal": True}}
    for kernel in ("exp", "inverse", "log", "trigh", "sqrt"):
        rows[f"rmfa-{kernel}"] = {**RMFA, "kernel": kernel, "causal": True}
        rows[f"kernelized-{kernel}"] = {"attention": "kernelized", "kernel": kernel,
                                        "ppsbn": True, "causal": True}
    rows["rmfa-exp-noppsbn"] = {**RMFA, "ppsbn": False, "causal": True}
    rows["rmfa-exp-noncausal"] = {**RMFA, "causal": False}
    runs = write_summaries(tmp_path / "runs", {
        f"{profile}/listops/{name}/seed0": summary(profile=profile, **fields)
        for profile in ("cpu", "paper") for name, fields in rows.items()})
    loaded = load_runs(runs)
    looks = {}
    for variant in variants_of(loaded):
        style = variant_style(variant)
        looks.setdefault(variant[1:], set()).add(style)
    assert all(len(s) == 1 for s in looks.values())  # the same in both profiles
    distinct = {(str(s.color), s.hatch, s.linestyle, s.marker) for (s,) in looks.values()}
    assert len(distinct) == len(rows)  # no two rows look alike
