"""Two runs of one configuration at once: the second refuses, naming the first (the command
line: one line, exit 75, nothing written); a lock left by a killed run is taken over."""

from __future__ import annotations

import json
import os
import re
import signal
import socket

import pytest
from integrity_helpers import LONG, last_line, run_cli, run_dir, start_cli, train_here, wait_for

from macformer.lifecycle.lock import LOCK_NAME, LOCKED_EXIT, RunLock, RunLocked


def test_second_run_refuses_then_takes_over_a_stale_lock(listops_data, tmp_path, caplog):
    lock = run_dir(tmp_path) / LOCK_NAME
    first = start_cli(listops_data, tmp_path, *LONG)
    try:
        wait_for(lambda: (run_dir(tmp_path) / "csv" / "metrics.csv").exists(), "training", first)
        holder = json.loads(lock.read_text())
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
        expected = (f"in use by another run of this configuration (pid {first.pid} on "
                    f"{socket.gethostname()}, started {holder['start_time']})")
        with pytest.raises(RunLocked, match=re.escape(expected)):
            train_here(listops_data, tmp_path, *LONG)
        assert not (run_dir(tmp_path) / "summary.json").exists()  # the refused run wrote nothing
        assert json.loads(lock.read_text())["pid"] == first.pid
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # dies without releasing its lock
        first.wait()
    assert lock.exists()

    summary = train_here(listops_data, tmp_path, "run.force=true")
    assert summary["status"] == "completed"
    assert f"taking over the stale lock {lock} (pid {first.pid}" in caplog.text
    assert not lock.exists()  # released at the end


@pytest.mark.slow
def test_the_command_line_that_loses_the_lock_exits_75_and_writes_nothing(listops_data, tmp_path):
    folder = run_dir(tmp_path)
    folder.mkdir(parents=True)
    lock = RunLock(folder).acquire()  # held by this (live) process
    try:
        before = {path: path.stat().st_mtime_ns for path in folder.rglob("*")}
        done = run_cli(listops_data, tmp_path)
        after = {path: path.stat().st_mtime_ns for path in folder.rglob("*")}
    finally:
        lock.release()
    assert done.returncode == LOCKED_EXIT, done.stderr[-2000:]
    assert last_line(done.stderr).startswith(f"error: {folder} is in use by another run of this "
                                             f"configuration (pid {os.getpid()} on {socket.gethostname()}")
    assert "Traceback" not in done.stdout + done.stderr
    assert after == before  # nothing written into the held folder
