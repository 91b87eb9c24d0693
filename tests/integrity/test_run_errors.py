"""Problems a user can fix end with one line that names the file and says what to do."""

from __future__ import annotations

import ctypes
import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from integrity_helpers import (
    cli_env,
    generate_listops,
    last_line,
    overrides,
    run_cli,
    run_dir,
    summary_of,
    train_here,
)
from training_helpers import ROOT

from macformer.data.datamodule import EmptySplitError
from macformer.data.tasks import DataError


def _header_only(path: Path) -> Path:
    path.write_text(path.read_text().splitlines()[0] + "\n")
    return path


def test_empty_validation_split_fails_before_training(tmp_path):
    data = generate_listops(tmp_path / "data")
    val = _header_only(data / "generated" / "listops-smoke" / "basic_val.tsv")  # the smoke profile's set
    done = run_cli(data, tmp_path / "results")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    line = last_line(done.stderr)  # one line naming the split and its file, and what to do
    assert line.startswith("error: ") and str(val) in line and "val split" in line and "regenerate" in line
    assert "Traceback" not in done.stderr
    summary = summary_of(tmp_path / "results")
    assert summary["status"] == "failed" and summary["steps"] == 0
    assert not (run_dir(tmp_path / "results") / "checkpoints").exists()  # nothing trained, nothing tested


def test_empty_test_split_fails_before_training_in_process(tmp_path):
    data = generate_listops(tmp_path / "data")
    test = _header_only(data / "generated" / "listops-smoke" / "basic_test.tsv")
    with pytest.raises((EmptySplitError, DataError), match=rf"{re.escape(str(test))}.*test split|test split.*{re.escape(str(test))}"):
        train_here(data, tmp_path / "results")
    assert summary_of(tmp_path / "results")["steps"] == 0


def test_truncated_last_checkpoint_is_moved_aside(listops_data, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit):
        train_here(listops_data, tmp_path, "debug.interrupt_at_step=4")
    last = run_dir(tmp_path) / "checkpoints" / "last.ckpt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])  # a write cut short
    summary = train_here(listops_data, tmp_path)
    best = last.with_name("best.ckpt")
    out = caplog.text
    assert f"{last} cannot be read (" in out
    assert f"moved it to {last}.corrupt; resuming from {best} (step 3) instead" in out
    assert summary["status"] == "completed" and summary["resumed_from"] == str(best)
    assert summary["steps"] == 6 and (last.parent / "last.ckpt.corrupt").read_bytes() == data[: len(data) // 2]


def _without_root_file_access():
    """Root ignores file modes: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the child's
    bounding set (prctl PR_CAPBSET_DROP) so that a read-only folder is read-only to it too."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_read_only_data_dir_with_complete_data(tmp_path):
    data = tmp_path / "data"
    train_here(generate_listops(data), tmp_path / "first")  # builds the caches too
    for path in [data, *data.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        command = [sys.executable, "-m", "macformer.train", *overrides(data, tmp_path / "results")]
        done = subprocess.run(command, cwd=ROOT, env=cli_env(), capture_output=True, text=True,
                              timeout=240, preexec_fn=_without_root_file_access)
    finally:
        for path in [data, *data.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert summary_of(tmp_path / "results")["status"] == "completed"


def test_wandb_without_a_key_says_how_to_log_in(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in cli_env().items() if not k.startswith("WANDB_") and k != "NETRC"}
    # Any attempt to reach W&B would go to a closed local port, never the network.
    env.update(HOME=str(home), WANDB_BASE_URL="http://127.0.0.1:9")
    done = run_cli(tmp_path / "data", tmp_path / "results", "logger=wandb", env=env, timeout=120)
    assert done.returncode == 1
    assert last_line(done.stderr) == (
        f"error: logger=wandb: no W&B API key (WANDB_API_KEY is unset and {home}/.netrc has no entry "
        f"for 127.0.0.1); run `wandb login` or set WANDB_API_KEY, or log offline with "
        f"WANDB_MODE=offline (upload later with `wandb sync`), or use logger=csv")
    assert len(done.stderr.strip().splitlines()) <= 3  # no traceback
    assert not [p for p in (tmp_path / "results").rglob("*") if p.is_file()]  # nothing started
