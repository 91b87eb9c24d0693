"""A read-only results folder: a completed run found again is skipped without writing
anything (no run.lock); a new or unfinished run ends in one line naming the path and
"read-only file system", exit 1, no traceback."""

from __future__ import annotations

import pytest
from integrity_helpers import last_line, run_cli, run_dir, train_here
from small_filesystem import read_only

pytestmark = pytest.mark.slow


def test_a_read_only_folder_of_completed_runs_can_be_run_again(listops_data, small_tmpfs):
    results = small_tmpfs("results", "16m")
    assert train_here(listops_data, results)["status"] == "completed"
    unfinished = run_dir(results).with_name("seed2")
    unfinished.mkdir()
    read_only(results)

    again = run_cli(listops_data, results)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already completed" in again.stdout and "Traceback" not in again.stdout + again.stderr
    assert not (run_dir(results) / "run.lock").exists()

    new = run_cli(listops_data, results, "seed=1")
    assert new.returncode == 1 and "Traceback" not in new.stderr
    assert last_line(new.stderr) == (f"error: cannot make the run folder: read-only file system: cannot write "
                                     f"{run_dir(results).with_name('seed1')} (filesystem {results}, tmpfs)")

    held = run_cli(listops_data, results, "seed=2")
    assert held.returncode == 1 and "Traceback" not in held.stderr
    assert last_line(held.stderr) == (f"error: read-only file system: cannot write {unfinished / 'run.lock'} "
                                      f"(filesystem {results}, tmpfs)")
