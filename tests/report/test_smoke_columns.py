"""A smoke sweep's report: its generated tasks' columns name the smoke sets and stay out
of the LRA average; the tasks read from LRA's own data (cut) keep their plain columns."""

from report_summaries import summary, write_summaries

from macformer.report.build import build_report


def test_smoke_columns_say_what_they_are(tmp_path):
    smoke = {"profile": "smoke", "steps": 6, "max_steps": 6}
    runs = write_summaries(tmp_path / "runs", {
        "smoke/listops/softmax/seed0": summary(**smoke, dataset="listops-smoke", test_accuracy=0.20),
        "smoke/text/softmax/seed0": summary(**smoke, task="text", chance_accuracy=0.5, test_accuracy=0.50),
        "smoke/pathfinder/softmax/seed0": summary(**smoke, task="pathfinder", dataset="pathfinder-smoke",
                                                  chance_accuracy=0.5, test_accuracy=0.60),
    })
    build_report(runs, tmp_path / "out")
    md = (tmp_path / "out" / "smoke" / "accuracy.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| variant |"))
    assert header == ("| variant | ListOps (listops-smoke) | Text | Retrieval | Image | "
                      "Pathfinder (pathfinder-smoke) | Avg |")
    assert "**Not LRA data:** ListOps (listops-smoke), Pathfinder (pathfinder-smoke)" in md
    row = next(line for line in md.splitlines() if line.startswith("| softmax |"))
    assert row.endswith("| 50.00 (1/5 tasks) |")  # Text alone enters the average
