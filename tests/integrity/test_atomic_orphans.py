"""kill -9 in the middle of an atomic write (summary.json, a checkpoint) leaves a temporary
file; the next write of that file, or the run's start, removes those whose writer is gone.
Two live writers of one file never remove each other's."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from macformer import atomic
from macformer.lifecycle.run_folder import prepare_run_folder

WRITER = """
import json, sys
from macformer import atomic
record = {"status": "completed", "pad": "x" * 8_000_000, "writer": sys.argv[2]}
for n in range(int(sys.argv[3])):
    record["n"] = n
    atomic.write_text(sys.argv[1], json.dumps(record))
"""


def _writer(path, name: str, times: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(times)])


def _temporary_files(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_kill_9_mid_write_leaves_no_orphan_after_the_next_write(tmp_path):
    path = tmp_path / "summary.json"
    left = 0
    for _ in range(30):
        writer = _writer(path, "killed", 1_000_000)
        time.sleep(random.uniform(0.3, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        left = max(left, len(_temporary_files(tmp_path)))
    assert left > 0  # the kills did land mid-write
    atomic.write_text(path, json.dumps({"status": "completed"}))
    assert _temporary_files(tmp_path) == []
    assert json.loads(path.read_text()) == {"status": "completed"}


def test_two_live_writers_of_one_file_never_break_each_other(tmp_path):
    path = tmp_path / "report.json"
    writers = [_writer(path, name, 40) for name in ("a", "b")]
    assert [writer.wait(timeout=300) for writer in writers] == [0, 0]  # no temp file removed under one
    assert json.loads(path.read_text())["n"] == 39
    assert _temporary_files(tmp_path) == []


def test_the_run_start_removes_orphans_of_dead_writers_only(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    dead = f".best.ckpt.{atomic.HOST_TAG}-{_dead_pid()}.k2j4_x9a.tmp"
    alive = f".summary.json.{atomic.HOST_TAG}-{os.getppid()}.abcdefgh.tmp"
    other_host = f".summary.json.0badc0de-{_dead_pid()}.abcdefgh.tmp"
    (tmp_path / "checkpoints" / dead).write_bytes(b"half a checkpoint")
    for name in (alive, other_host):
        (tmp_path / name).write_text("{")
    prepare_run_folder(tmp_path)
    assert not (tmp_path / "checkpoints" / dead).exists()
    assert sorted(_temporary_files(tmp_path)) == sorted([alive, other_host])
