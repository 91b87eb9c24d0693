"""A run folder may come from someone else: its checkpoints are data, never code.

A checkpoint whose pickle would run a command (here: make a marker folder) is refused
by the weights-only loader, moved aside like a damaged one, and the run recovers.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
import torch
from integrity_helpers import run_dir, train_here

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/


class _RunsCode:
    """Unpickling this calls os.mkdir(marker): the stand-in for any command."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _plant(path: Path, marker: Path) -> None:
    """A file with a real checkpoint's keys, and the payload inside it."""
    torch.save({"global_step": 3, "state_dict": {}, "optimizer_states": [], "loops": {},
                "payload": _RunsCode(marker)}, path)


def test_the_planted_payload_would_run_if_unpickled(tmp_path):
    # The test below means something only if loading the file the old way runs the code.
    marker = tmp_path / "ran"
    _plant(tmp_path / "evil.ckpt", marker)
    torch.load(tmp_path / "evil.ckpt", weights_only=False)
    assert marker.is_dir()


@pytest.mark.parametrize("also_best", [False, True], ids=["last-only", "last-and-best"])
def test_malicious_checkpoint_is_refused_set_aside_and_the_run_recovers(
        listops_data, tmp_path, caplog, also_best):
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit):
        train_here(listops_data, tmp_path, "debug.interrupt_at_step=4")
    checkpoints = run_dir(tmp_path) / "checkpoints"
    last, best = checkpoints / "last.ckpt", checkpoints / "best.ckpt"
    marker = tmp_path / "payload-ran"
    _plant(last, marker)
    if also_best:
        _plant(best, marker)

    summary = train_here(listops_data, tmp_path)  # the same configuration, re-run

    assert not marker.exists()  # the payload never ran
    assert summary["status"] == "completed" and summary["steps"] == 6
    assert (checkpoints / "last.ckpt.corrupt").exists()  # kept for inspection, not loaded
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                and "cannot be read" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0]  # said once, in one line
    assert "refused to unpickle it" in warnings[0] and "posix.mkdir" in warnings[0]
    if also_best:
        assert summary["resumed_from"] is None and "starting" in warnings[0]
        assert "best.ckpt cannot be read either (refused to unpickle it" in warnings[0]
        assert (checkpoints / "best.ckpt.corrupt").exists()
    else:
        assert summary["resumed_from"] == str(best) and "resuming from" in warnings[0]


def test_benchmark_checkpoint_argument_is_read_as_weights_only(tmp_path):
    from benchmarks.model_inputs import model_qkv

    marker = tmp_path / "payload-ran"
    _plant(tmp_path / "evil.ckpt", marker)
    with pytest.raises(ValueError, match=r"evil.ckpt: refused to unpickle it \(.*posix.mkdir"):
        model_qkv(16, checkpoint=tmp_path / "evil.ckpt")
    assert not marker.exists()


@pytest.mark.parametrize("content, why", [
    ({"global_step": 3, "state_dict": {}, "optimizer_states": [], "loops": {}},
     "not a training checkpoint: its state_dict holds no weights"),
    ({"global_step": True, "state_dict": {"w": torch.zeros(1)}, "optimizer_states": [], "loops": {}},
     "not a training checkpoint: global_step True"),
    ([1, 2, 3], "not a training checkpoint: a list"),
])
def test_a_file_that_loads_but_is_no_checkpoint_is_set_aside_too(tmp_path, content, why):
    from macformer.lifecycle.resume import plan_run

    last = tmp_path / "checkpoints" / "last.ckpt"
    last.parent.mkdir()
    torch.save(content, last)
    plan = plan_run(tmp_path, "0123456789abcdef")
    assert plan.action == "start" and plan.set_aside and plan.checkpoint is None
    assert f"{last} cannot be read ({why}); moved it to {last}.corrupt" in plan.message
    assert (tmp_path / "checkpoints" / "last.ckpt.corrupt").exists() and not last.exists()
