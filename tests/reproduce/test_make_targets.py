"""`make reproduce-lra` and `make plan`: an unknown PROFILE stops make at once in one line
(before install, data or any run), and the user's DATA_ARGS add to the profile's own
(`make -n`: make prints the commands; it runs only the recursive `make data`, dry too)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args, tmp_path) -> subprocess.CompletedProcess:
    # The test's own interpreter (its venv) for the Makefile's Python calls.
    venv = Path(sys.executable).parent.parent
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), f"VENV={venv}",
                           f"DATA_DIR={tmp_path / 'data'}", f"REPORT_DIR={tmp_path / 'results'}", *args],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "MAKEFLAGS": ""})


@pytest.mark.parametrize("target", ["reproduce-lra", "plan"])
def test_an_unknown_profile_stops_make_at_once(tmp_path, target):
    done = make(target, "PROFILE=cpus", tmp_path=tmp_path)  # not dry: nothing may run
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "PROFILE=cpus is not a profile; choose from auto cpu paper smoke" in lines[0], done.stderr
    assert done.stdout == "" and not (tmp_path / "data").exists() and not (tmp_path / "results").exists()


@pytest.mark.slow  # runs the driver twice (--print-profile, --print-data-vars)
def test_the_users_data_args_add_to_the_profiles(tmp_path):
    done = make("-n", "reproduce-lra", "PROFILE=smoke", "DATA_ARGS=--no-lra-download --workers 1",
                tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    prepare = " ".join(done.stdout.split("macformer.data.prepare", 1)[1].split("\\\n"))
    prepare = prepare.split("\n", 1)[0]
    assert "--offline" in prepare  # the smoke profile's own: generate only, never download
    assert prepare.rstrip().endswith("--no-lra-download --workers 1"), prepare  # the user's, after it
    assert f"--data-dir {tmp_path / 'data'}" in prepare and "--listops-train 64" in prepare
    assert "macformer.reproduce --profile smoke" in done.stdout  # printed, not run (-n)
    assert not (tmp_path / "data").exists() and not (tmp_path / "results").exists()
