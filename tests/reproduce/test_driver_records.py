"""The driver never crashes writing its own records: on a full disk or a read-only
results folder, each write it cannot make is one line on stderr, and the closing
summary still prints and counts every run. Real small filesystems (a tmpfs, remounted
read-only), skipped with the reason where none can be mounted."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from driver_helpers import run_dir, run_driver, summary

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integrity"))
from small_filesystem import fill, read_only, tmpfs, tmpfs_problem  # noqa: E402


@pytest.fixture
def results_tmpfs(tmp_path):
    """A 2 MB tmpfs for the results folder, unmounted after the test."""
    why = tmpfs_problem(tmp_path / "probe-mount")
    if why:
        pytest.skip(why)
    with contextlib.ExitStack() as mounts:
        yield mounts.enter_context(tmpfs(tmp_path / "results", "2m"))


def assert_one_line_each(done, reason: str) -> list[str]:
    """No traceback; every stderr line is one of the driver's, naming `reason`."""
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("reproduce:") and reason in line for line in lines), done.stderr
    return lines


def test_a_full_results_disk_is_one_line_per_write_and_the_closing_summary_prints(results_tmpfs, tmp_path):
    fill(results_tmpfs)
    done = run_driver(tmp_path / "data", results_tmpfs, "--tasks", "listops", "--rows", "softmax")
    lines = assert_one_line_each(done, "No space left on device")
    assert any("could not write its summary.json" in line for line in lines)
    assert "finished in" in done.stdout and ": 1 failed" in done.stdout
    closing = done.stdout.split("did not complete")[-1]  # the run, with why
    assert "listops softmax seed0:" in closing and "No space left on device" in closing


@pytest.mark.slow
def test_a_read_only_results_folder_skips_what_completed_and_says_what_it_cannot_write(
        results_tmpfs, tmp_path):
    data = tmp_path / "data"
    first = run_driver(data, results_tmpfs, "--tasks", "listops", "--rows", "softmax")
    assert first.returncode == 0 and summary(run_dir(results_tmpfs, "softmax"))["status"] == "completed"
    read_only(results_tmpfs)
    done = run_driver(data, results_tmpfs, "--tasks", "listops", "--rows", "softmax", "rfa")
    lines = assert_one_line_each(done, "Read-only file system")
    assert any("could not write its summary.json" in line for line in lines)
    assert "listops softmax seed0: completed before" in done.stdout  # no lock needed to skip it
    assert "finished in" in done.stdout and ": 1 completed, 1 failed" in done.stdout
    assert "could not create the run folder: Read-only file system" in done.stdout
