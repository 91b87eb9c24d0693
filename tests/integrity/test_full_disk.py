"""A full disk is one line, and nothing is lost: the run records `failed` with the file, the
filesystem, "no space left on device" and the room left; no truncated checkpoint, no
temporary file, no stale run.lock; macformer-train exits 1 with one line. A full TMPDIR
does not matter: checkpoints never go through it."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import signal
import tempfile

import pytest
import torch
from integrity_helpers import last_line, run_cli, run_dir, train_here
from small_filesystem import fill, tmpfs_problem

from macformer.lifecycle.lock import LOCK_NAME, RunLock
from macformer.lifecycle.provenance import RunLog
from macformer.lifecycle.record import new_record
from macformer.lifecycle.session import RunNotRecorded, close_run

FILE_LIMIT = 48 * 1024  # bytes: the run's small files fit, a checkpoint (~90 KiB) does not


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an EFBIG error instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def _left_behind(folder):
    return sorted(os.path.relpath(os.path.join(parent, name), folder) for parent, _, names in os.walk(folder)
                  for name in names if name.endswith((".tmp", ".ckpt")) or name == LOCK_NAME)


@pytest.mark.slow
def test_a_full_results_disk_fails_the_run_in_one_line(listops_data, tmp_path):
    why = tmpfs_problem(tmp_path / "probe")
    if why:  # no tmpfs here: a file size limit stands in for the full disk
        results, extra, full = tmp_path / "results", {"preexec_fn": _limit_file_size}, "file too large"
    else:
        from small_filesystem import tmpfs

        mount = tmpfs(tmp_path / "results", "64k")
        results, extra, full = mount.__enter__(), {}, "no space left on device"
    try:
        done = run_cli(listops_data, results, **extra)
        folder = run_dir(results)
        summary = json.loads((folder / "summary.json").read_text())
        left = _left_behind(folder)
    finally:
        if not why:
            mount.__exit__(None, None, None)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    pattern = rf"{full} writing {re.escape(str(folder))}/checkpoints/(best|last)\.ckpt \(filesystem "
    assert re.search(pattern, last_line(done.stderr)), done.stderr[-2000:]
    assert last_line(done.stderr).startswith("error: ")
    assert summary["status"] == "failed" and full in summary["error"]
    if not why:
        assert re.search(r"\(filesystem \S+, tmpfs, [\d.]+ (bytes|KiB) free\)", summary["error"])
    assert left == []  # no truncated checkpoint under its name, no temporary file, no run.lock


def test_a_full_tmpdir_does_not_stop_the_run(listops_data, tmp_path, small_tmpfs, monkeypatch):
    full = small_tmpfs("tmpdir", "64k")
    fill(full)
    monkeypatch.setenv("TMPDIR", str(full))
    monkeypatch.setattr(tempfile, "tempdir", str(full))
    summary = train_here(listops_data, tmp_path / "results")
    assert summary["status"] == "completed", summary["error"]
    best = run_dir(tmp_path / "results") / "checkpoints" / "best.ckpt"
    assert torch.load(best, weights_only=True)["global_step"] > 0


@pytest.mark.parametrize("status", ["failed", "interrupted"])
def test_a_summary_that_cannot_be_written_is_said_and_the_lock_is_let_go(tmp_path, small_tmpfs, capsys,
                                                                        status):
    folder = small_tmpfs("results", "64k") / "run"
    folder.mkdir()
    lock, log = RunLock(folder).acquire(), RunLog(folder)
    fill(folder.parent)
    summary = new_record({}, status=status, error="OSError: no space left on device writing best.ckpt")
    if status == "failed":
        with pytest.raises(RunNotRecorded) as refused:
            close_run(folder, summary, log, lock)
        message = str(refused.value)
    else:  # its exit code (130) must stay: said on stderr
        close_run(folder, summary, log, lock)
        message = capsys.readouterr().err
    assert f"the run {status} (OSError: no space left on device writing best.ckpt) but " in message
    assert f"{folder}/summary.json could not be written: no space left on device writing " in message
    assert "0 bytes free" in message and "\n" not in message.strip()
    assert not (folder / LOCK_NAME).exists() and not (folder / "summary.json").exists()
    assert [name for name in os.listdir(folder) if name.endswith(".tmp")] == []


def test_an_error_that_names_no_file_names_the_run_folder(tmp_path):
    """A write() deep in a library (the CSV logger) names no file: the run folder is named."""
    from macformer.lifecycle.os_error import describe_os_error

    message = describe_os_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert re.fullmatch(rf"no space left on device writing a file in {re.escape(str(tmp_path))} "
                        rf"\(filesystem \S+, \S+, [\d.]+ (bytes|KiB|MiB|GiB) free\)", message), message
