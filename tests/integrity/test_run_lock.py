"""Two runs of one configuration at once: the second refuses, naming the first; a lock left
by a killed run is taken over."""

from __future__ import annotations

import json
import os
import re
import signal
import socket

import pytest
from integrity_helpers import LONG, run_dir, start_cli, train_here, wait_for

from macformer.lifecycle.lock import LOCK_NAME, RunLocked


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
