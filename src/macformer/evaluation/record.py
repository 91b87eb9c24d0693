"""What a run recorded for its test, read back from its folder: the summary, the command
line that made it, and the checkpoint it tested (sha256 checked before anything loads it).

A run folder holds its command line at `.hydra/overrides.yaml`; a committed copy of its
records (macformer-report's `<report>/runs/...`) at `overrides.yaml`. Both are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from macformer.lifecycle.record import COMPLETED, SUMMARY_NAME, file_sha256, read_summary

OVERRIDES_PLACES = (Path(".hydra") / "overrides.yaml", Path("overrides.yaml"))


class CannotRetest(Exception):
    """The run cannot be re-tested as asked (one line; the command exits 2)."""


@dataclass(frozen=True)
class RunRecord:
    run_dir: Path
    summary: dict
    overrides: tuple[str, ...]  # the run's command line, as Hydra recorded it

    @property
    def recorded_accuracy(self) -> float:
        return float(self.summary["test_accuracy"])


def run_folder_of(target: Path) -> Path:
    """The run folder `target` is, or the nearest folder above a checkpoint holding a summary."""
    if target.is_dir():
        return target
    for folder in list(target.parents)[:3]:  # <run>/checkpoints/best.ckpt
        if (folder / SUMMARY_NAME).is_file():
            return folder
    raise CannotRetest(f"{target}: no {SUMMARY_NAME} in the folders above it; give the run folder")


def read_record(run_dir: Path) -> RunRecord:
    summary = read_summary(run_dir)
    if summary is None:
        raise CannotRetest(f"{run_dir}: no readable {SUMMARY_NAME}; is it a run folder?")
    if summary.get("status") != COMPLETED or summary.get("test_accuracy") is None:
        raise CannotRetest(f"{run_dir / SUMMARY_NAME}: status {summary.get('status')!r} with no test "
                           "accuracy; only a completed, tested run can be re-tested")
    for place in OVERRIDES_PLACES:
        if (run_dir / place).is_file():
            overrides = yaml.safe_load((run_dir / place).read_text(encoding="utf-8")) or []
            if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
                raise CannotRetest(f"{run_dir / place}: not a list of overrides")
            return RunRecord(run_dir, summary, tuple(overrides))
    raise CannotRetest(f"{run_dir}: no {OVERRIDES_PLACES[0]} (nor {OVERRIDES_PLACES[1]}): the run's "
                       "command line is unknown")


def checked_checkpoint(record: RunRecord, given: Path | None) -> Path:
    """The checkpoint to test, `given` or the recorded best one, refused unless its sha256
    is the one the summary recorded: a number is only re-checked with the weights behind it."""
    recorded = record.summary.get("best_checkpoint_sha256")
    named = record.summary.get("best_checkpoint")
    if not recorded or not named:
        raise CannotRetest(f"{record.run_dir / SUMMARY_NAME}: records no tested checkpoint "
                           "(best_checkpoint, best_checkpoint_sha256)")
    checkpoint = given or record.run_dir / named
    if not checkpoint.is_file():
        raise CannotRetest(f"{checkpoint}: no such checkpoint (checkpoints stay out of git: re-test "
                           "where the run was made, or re-run it with macformer-reproduce --verify)")
    actual = file_sha256(checkpoint)
    if actual != recorded:
        raise CannotRetest(f"{checkpoint}: sha256 {actual[:16]}… is not the recorded best checkpoint's "
                           f"({recorded[:16]}…, {SUMMARY_NAME}); refusing to test it")
    return checkpoint
