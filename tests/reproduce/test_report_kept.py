"""A sweep never overwrites a better report: one that is not the profile's whole plan done
(narrowed, a run that did not complete, Ctrl-C) writes its report beside RESULTS/<profile>/,
in RESULTS/partial/<profile>/, when RESULTS/<profile>/ holds one (here a committed one)."""

import os
import shutil
import signal
import subprocess
import sys
from argparse import Namespace

import pytest
from reproduce_helpers import ENV, LONGER

from macformer.reproduce.report_place import narrowed, partial_reason, report_root
from macformer.reproduce.sweep import sweeps_of


def selection(tasks=None, rows=None, seeds=None) -> Namespace:
    return Namespace(tasks=tasks, rows=rows, seeds=seeds)


def test_narrowed_names_the_option_that_leaves_runs_out():
    smoke = sweeps_of("smoke")
    assert narrowed("smoke", smoke, selection()) is None
    assert narrowed("smoke", smoke, selection(seeds=[0])) is None  # the profile's own seeds
    assert narrowed("smoke", smoke, selection(tasks=["listops"])) == "--tasks listops"
    assert narrowed("smoke", smoke, selection(rows=["softmax"])) == "--rows softmax"
    assert narrowed("smoke", smoke, selection(seeds=[1])) == "--seeds 1"
    assert narrowed("paper", sweeps_of("paper", ("pathx",)), selection()) == "--sweep pathx"
    assert narrowed("paper", sweeps_of("paper", ("core", "pathx")), selection()) is None  # more, not less


def test_partial_reason_counts_what_did_not_complete():
    done = [(None, {"status": "completed"}, "ran"), (None, {"status": "missing"}, "missing")]
    assert partial_reason(None, done, False, []) is None  # missing data is what this machine can do
    assert partial_reason(None, done, True, []) == "interrupted by Ctrl-C"
    failed = [*done, (None, {"status": "failed"}, "ran")]
    assert partial_reason(None, failed, False, []) == "1 of 3 runs did not complete"
    assert partial_reason("--tasks listops", done, False, []) == "narrowed by --tasks listops"


def test_report_root_keeps_a_report_that_is_there(tmp_path):
    assert report_root(tmp_path, "cpu", None) == tmp_path
    assert report_root(tmp_path, "cpu", "interrupted by Ctrl-C") == tmp_path  # nothing to overwrite yet
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "accuracy.md").write_text("the committed table\n")
    assert report_root(tmp_path, "cpu", "interrupted by Ctrl-C") == tmp_path / "partial"
    assert report_root(tmp_path, "cpu", None) == tmp_path  # the whole plan done: the profile's folder


def committed_report(root):
    """root/results/smoke/ holding a report committed to a git repository at root."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = root / "results" / "smoke"
    folder.mkdir(parents=True)
    (folder / "accuracy.md").write_text("# the committed table\n")
    (folder / "curves_listops.png").write_bytes(b"\x89PNG\r\n\x1a\n committed")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q"], ["add", "results"], ["commit", "-q", "-m", "report"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return lambda: subprocess.run([*git, "status", "--porcelain", "results/smoke"], check=True,
                                  capture_output=True, text=True).stdout


def driver(root, *args) -> list[str]:
    return [sys.executable, "-m", "macformer.reproduce", "--profile", "smoke", "--tasks", "listops",
            "--rows", "softmax", "--data-dir", str(root / "data"), "--results-dir", str(root / "results"),
            "--calibration-steps", "0", "--progress-every", "0", *args]


@pytest.mark.slow
def test_a_narrowed_sweep_leaves_the_committed_report_as_it_was(tmp_path):
    changed = committed_report(tmp_path)
    done = subprocess.run(driver(tmp_path), capture_output=True, text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert changed() == ""  # not a byte of the committed folder changed, nothing deleted
    partial = tmp_path / "results" / "partial" / "smoke"
    assert f"(narrowed by --tasks listops), so its report went to {partial}/" in done.stdout
    assert "softmax" in (partial / "accuracy.md").read_text() and (partial / "cost.md").exists()


@pytest.mark.slow
def test_a_sweep_stopped_by_ctrl_c_leaves_the_committed_report_as_it_was(tmp_path):
    changed = committed_report(tmp_path)
    process = subprocess.Popen(driver(tmp_path, *LONGER), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=ENV, start_new_session=True)
    out = []
    for line in process.stdout:  # Ctrl-C (to the process group, as a terminal sends it) mid-run
        out.append(line)
        if ": running" in line:
            os.killpg(process.pid, signal.SIGINT)
            break
    out.append(process.communicate(timeout=300)[0])
    text = "".join(out)
    assert process.returncode == 130, text
    assert changed() == ""
    # Its report went beside the committed one, or (Ctrl-C before any run recorded more than
    # its start, as on a loaded machine) there was nothing to report: said in one line.
    assert ("(interrupted by Ctrl-C), so its report went to" in text
            or "reproduce: report: " in text), text


@pytest.mark.slow
def test_no_report_is_honoured_with_launcher_local(tmp_path):
    done = subprocess.run(driver(tmp_path, "--launcher", "local", "--no-report"), capture_output=True,
                          text=True, timeout=600, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 of 1 run(s) completed" in done.stdout and "report:" not in done.stdout
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["runs", "submitit"]


@pytest.mark.slow
def test_a_narrowed_launcher_local_sweep_leaves_the_committed_report_as_it_was(tmp_path):
    changed = committed_report(tmp_path)
    done = subprocess.run(driver(tmp_path, "--launcher", "local"), capture_output=True, text=True,
                          timeout=600, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert changed() == ""
    partial = tmp_path / "results" / "partial" / "smoke"
    assert f"(narrowed by --tasks listops), so its report went to {partial}/" in done.stdout
    assert "softmax" in (partial / "accuracy.md").read_text()
