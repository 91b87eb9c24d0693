"""What the report must never do: merge runs that differ (tag, settings), overwrite a
good report with an empty one, mix profiles in one folder, or show a stopped or failed
run as a plain accuracy."""

import subprocess
import sys
from pathlib import Path

from report_summaries import summary, write_summaries

from macformer.report import build_report, load_runs
from macformer.report.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def accuracy_rows(md: str) -> list[str]:
    """The rows of the first table (the accuracy table; the provenance table follows)."""
    table = []
    for line in md.splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return [line for line in table if line.startswith("| ")][1:]


def test_tagged_runs_are_rows_of_their_own(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(test_accuracy=0.30),
        "cpu/listops/softmax-lr2/seed0": summary(tag="lr2", test_accuracy=0.40,
                                                 config_hash="fedcba9876543210"),
    })
    loaded = load_runs(runs)
    assert len(loaded.frame) == 2 and loaded.superseded == 0 and loaded.conflicts == []
    build_report(runs, tmp_path / "out")
    rows = accuracy_rows((tmp_path / "out" / "cpu" / "accuracy.md").read_text())
    assert [r.split(" | ")[:2] for r in rows] == [["| softmax", "30.00 (n=1)"],
                                                  ["| softmax #lr2", "40.00 (n=1)"]]


def test_runs_of_other_settings_are_not_merged_silently(tmp_path, capsys):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(test_accuracy=0.30, config_hash="aaaa000000000000",
                                             end_time="2024-05-01T10:00:00+00:00"),
        "copy/listops/softmax/seed0": summary(test_accuracy=0.45, config_hash="bbbb000000000000",
                                              end_time="2024-05-02T10:00:00+00:00"),
        "same/listops/softmax/seed0": summary(test_accuracy=0.45, config_hash="bbbb000000000000",
                                              end_time="2024-04-01T10:00:00+00:00"),
    })
    loaded = load_runs(runs)
    assert loaded.superseded == 2 and len(loaded.conflicts) == 1
    conflict = loaded.conflicts[0]
    # The latest completed is kept; only the summary of other settings is a conflict.
    assert conflict.kept == "copy/listops/softmax/seed0/summary.json"
    assert conflict.set_aside == (("cpu/listops/softmax/seed0/summary.json", "aaaa000000000000"),)
    assert main(["--runs", str(runs), "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    assert accuracy_rows(md)[0].startswith("| softmax | 45.00 (n=1)[^1] |")
    assert ("[^1]: settings differ between summaries of this run: shown "
            "`runs/copy/listops/softmax/seed0/summary.json` (config bbbb000000000000, the completed "
            "or latest one); set aside `runs/cpu/listops/softmax/seed0/summary.json` (config "
            "aaaa000000000000).") in md
    assert "settings differ: kept copy/listops/softmax/seed0/summary.json" in capsys.readouterr().err


def good_report(tmp_path) -> tuple[Path, dict]:
    runs = write_summaries(tmp_path / "runs", {"cpu/listops/softmax/seed0": summary()})
    out = tmp_path / "results"
    assert main(["--runs", str(runs), "--out", str(out)]) == 0
    return out, snapshot(out)


def snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_nothing_to_report_writes_nothing_and_fails(tmp_path, capsys):
    out, before = good_report(tmp_path)
    capsys.readouterr()
    write_summaries(tmp_path / "unreadable", {"cpu/listops/softmax/seed0": "{ half"})
    (tmp_path / "empty" / "cpu").mkdir(parents=True)
    cases = {
        ("--runs", str(tmp_path / "no-such-folder")): "does not exist; nothing written",
        ("--runs", str(tmp_path / "empty")): "no summary.json under",
        ("--runs", str(tmp_path / "unreadable")): "none of the 1 summary.json files",
        ("--runs", str(tmp_path / "runs"), "--profile", "paper"): "no run of profile 'paper'",
    }
    for args, message in cases.items():
        assert main([*args, "--out", str(out)]) == 2, args
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert snapshot(out) == before, args


def test_exit_status_of_the_command(tmp_path):
    out, before = good_report(tmp_path)
    done = subprocess.run([sys.executable, "-m", "macformer.report", "--runs",
                           str(tmp_path / "missing"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"report: runs folder {tmp_path / 'missing'} does not exist; nothing written\n"
    assert snapshot(out) == before


def test_each_profile_has_its_own_folder(tmp_path):
    out = tmp_path / "results"
    cpu = write_summaries(tmp_path / "cpu-runs", {"cpu/listops/softmax/seed0": summary()})
    build_report(cpu, out)
    before = snapshot(out)
    smoke = write_summaries(tmp_path / "smoke-runs", {
        "smoke/listops/softmax/seed0": summary(profile="smoke", test_accuracy=0.2)})
    build_report(smoke, out)  # a smoke sweep leaves the cpu report alone
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k.startswith("cpu/")} == before
    assert "smoke/accuracy.md" in after and not any("/" not in k for k in after)


def test_gitignore_keeps_cpu_and_paper_reports_and_drops_smoke():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path],
                              cwd=REPO).returncode == 0

    for name in ("accuracy.md", "accuracy.csv", "accuracy.png", "curves_listops.png"):
        assert ignored(f"results/smoke/{name}")
        assert not ignored(f"results/cpu/{name}") and not ignored(f"results/paper/{name}")
    assert ignored("results/cpu/accuracy.tex") and ignored("results/runs/cpu/x/summary.json")


def test_stopped_and_failed_runs_are_never_plain_accuracies(tmp_path):
    runs = write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(status="stopped", steps=120, max_steps=400,
                                             stop_reason="time limit of 600 s reached",
                                             test_accuracy=0.25),
        "cpu/pathfinder/softmax/seed0": summary(task="pathfinder", chance_accuracy=0.5,
                                                test_accuracy=0.70),
        "cpu/pathfinder/softmax/seed1": summary(task="pathfinder", chance_accuracy=0.5, seed=1,
                                                status="stopped", steps=50, max_steps=400,
                                                error="TimeLimitExceeded: 600 s",
                                                test_accuracy=0.90),
        # A NaN loss: the summary may still carry the best checkpoint's accuracy.
        "cpu/image/softmax/seed0": summary(task="image", status="failed", steps=17,
                                           error="FloatingPointError: loss is nan at step 17 "
                                                 "(train/loss)", test_accuracy=0.40),
    })
    build_report(runs, tmp_path / "out")
    md = (tmp_path / "out" / "cpu" / "accuracy.md").read_text()
    cells = accuracy_rows(md)[0].split(" | ")
    assert cells[1] == "stopped: 25.00 (n=1)[^1]"
    assert cells[4] == "failed[^2]"
    assert cells[5] == "70.00 (n=1) +1 stopped[^3]"  # the stopped seed's 90 is not averaged
    assert cells[6] == "70.00 (1/5 tasks) |"
    assert ("[^1]: stopped, seed 0, 120 / 400 steps: time limit of 600 s reached "
            "(`runs/listops/softmax/seed0/summary.json`)") in md
    assert ("[^2]: failed, seed 0, 17 / 200 steps: FloatingPointError: loss is nan at step 17 "
            "(train/loss) (`runs/image/softmax/seed0/summary.json`)") in md
    assert "[^3]: stopped, seed 1, 50 / 400 steps: TimeLimitExceeded: 600 s" in md
