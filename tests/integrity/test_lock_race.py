"""The run lock is exclusive: two processes that take it at the same instant never both hold
it, whether the folder is free or holds a stale lock that both take over; a lock that cannot
be read, or whose owner lives, is never taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
from lock_race import count_double_holds

from macformer.lifecycle.lock import LOCK_NAME, RunLock, RunLocked, holder_alive, read_holder

TRIALS = 300


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _stale_lock_text() -> str:
    return json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "started": 0.0,
                       "start_time": "1970-01-01T00:00:00+00:00", "driver_pid": 1})


def test_two_processes_at_once_never_both_hold_it(tmp_path):
    assert count_double_holds(RunLock, tmp_path, TRIALS) == 0


def test_two_processes_taking_over_one_stale_lock_never_both_hold_it(tmp_path):
    assert count_double_holds(RunLock, tmp_path, TRIALS, stale_lock=_stale_lock_text()) == 0


def test_the_lock_file_names_its_holder_and_the_driver(tmp_path):
    lock = RunLock(tmp_path).acquire()
    try:
        holder = read_holder(tmp_path)
        assert holder["pid"] == os.getpid() and holder["driver_pid"] == os.getppid()
        assert holder["host"] == socket.gethostname() and isinstance(holder["started"], float)
        assert holder_alive(holder)
        with pytest.raises(RunLocked) as refused:
            RunLock(tmp_path).acquire()
        assert refused.value.holder == holder
    finally:
        lock.release()
    assert read_holder(tmp_path) is None
    assert sorted(os.listdir(tmp_path)) == []  # no temporary file left


def test_holder_alive_is_false_only_when_provably_gone():
    host = socket.gethostname()
    assert not holder_alive({"pid": _dead_pid(), "host": host, "started": 0.0})
    assert holder_alive({"pid": os.getpid(), "host": host, "started": 1e12})
    assert not holder_alive({"pid": os.getpid(), "host": host, "started": 0.0})  # a reused pid
    assert holder_alive({"pid": _dead_pid(), "host": "another-host", "started": 0.0})
    assert holder_alive({})


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]"])
def test_an_unreadable_or_empty_lock_is_not_proof_of_a_dead_owner(tmp_path, text):
    (tmp_path / LOCK_NAME).write_text(text)
    with pytest.raises(RunLocked, match=f"cannot be read.*delete {tmp_path / LOCK_NAME}") as refused:
        RunLock(tmp_path).acquire()
    assert refused.value.holder == {} and read_holder(tmp_path) == {}
    assert (tmp_path / LOCK_NAME).read_text() == text  # left alone


def test_a_lock_of_another_host_is_never_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": _dead_pid(), "host": "another-host",
                                                  "started": 0.0, "start_time": "then"}))
    with pytest.raises(RunLocked, match="pid .* on another-host, started then"):
        RunLock(tmp_path).acquire()


def test_a_stale_lock_is_taken_over_with_a_message(tmp_path, caplog):
    (tmp_path / LOCK_NAME).write_text(_stale_lock_text())
    lock = RunLock(tmp_path).acquire()
    assert read_holder(tmp_path)["pid"] == os.getpid()
    lock.release()
    assert f"taking over the stale lock {tmp_path / LOCK_NAME}" in caplog.text


def test_a_symlink_planted_as_the_lock_is_removed_not_followed(tmp_path, caplog):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_NAME).symlink_to(target)
    lock = RunLock(run).acquire()
    assert not (run / LOCK_NAME).is_symlink() and read_holder(run)["pid"] == os.getpid()
    lock.release()
    assert target.read_text() == "keep me"
    assert f"removed {run / LOCK_NAME}: a symlink (to {target})" in caplog.text


def test_a_forked_child_does_not_keep_the_lock_of_its_dead_parent(tmp_path):
    """A DataLoader worker (forked) outliving a killed run must not leave the run's lock held."""
    read_end, write_end = os.pipe()
    owner = os.fork()
    if owner == 0:  # the run: takes the lock, forks a worker, dies holding the lock
        try:
            RunLock(tmp_path).acquire()
            worker = os.fork()
            if worker == 0:
                time.sleep(30)
                os._exit(0)
            os.write(write_end, str(worker).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    worker = int(os.read(read_end, 32))
    os.close(read_end)
    os.waitpid(owner, 0)
    try:
        assert psutil.pid_exists(worker)  # the worker lives on
        start = time.monotonic()
        lock = RunLock(tmp_path).acquire()  # the stale lock is taken over at once
        assert time.monotonic() - start < 5
        lock.release()
    finally:
        os.kill(worker, signal.SIGKILL)
