"""The run around its training as one context manager: what train() does before and after
fit and test, in the one place (as lightning-hydra-template's `task_wrapper` does).

Made (before the `with`): skip, resume or start. The main process takes the run folder
(lifecycle/session.py: the lock, then identity, configs and train.log); a completed run
is skipped, `previous` holding its summary, and must not be entered: nothing is written.
A worker that Lightning's DDP launcher (or srun) started writes nothing of the folder's
own; it only finds the checkpoint to resume from, as the main process does.

Entered: yields the run record (summary.json's keys) for fit and test to fill, and notes
SIGINT / SIGTERM meanwhile. Left, however the body ends (once, for main process and
worker alike): an exception is described in the record (lifecycle/outcome.py: failed or
interrupted, the latter raising RunInterrupted for exit 130 / 143); end_time is set; the
logger's run (W&B) is finished with the record, by the function train() passes; then (main process) summary.json is written and the
log and lock are let go, even when the W&B finish fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from omegaconf import DictConfig

from macformer.config import output_dir

from .outcome import RunInterrupted, SignalRecorder, describe_failure
from .provenance import git_commit
from .record import INTERRUPTED, new_record, run_facts
from .resume import config_hash
from .session import close_run, start_run


def now() -> str:
    """The time (ISO 8601 UTC, seconds) as summary.json's start_time and end_time say it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_launched_worker() -> bool:
    """True in the extra processes Lightning's DDP launcher starts (rank > 0), and in the
    tasks after the first of a SLURM job with a task per device (srun starts those)."""
    slurm_rank = int(os.environ.get("SLURM_PROCID", "0")) if int(os.environ.get("SLURM_NTASKS", "1")) > 1 else 0
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0 or slurm_rank > 0


class RunLifecycle:
    """One run of `cfg` in its folder (`output_dir(cfg)`), started at `start_time` (now()).

    `skipped` / `previous`: a completed run found again, and its summary. Otherwise
    `checkpoint` (the checkpoint to resume from, or None) and `summary` (the record that
    `with` yields and that summary.json receives)."""

    def __init__(self, cfg: DictConfig, overrides: Sequence[str], start_time: str,
                 finish_logger: Callable[[dict], None] = lambda summary: None):
        self.finish_logger = finish_logger  # e.g. the W&B run's finish, given the record (training's, not ours)
        self.run_dir = output_dir(cfg)
        cfg_hash = config_hash(cfg)
        self.worker = is_launched_worker()
        self.lock = self.run_log = None
        self.skipped, self.previous = False, None
        if self.worker:
            last = self.run_dir / "checkpoints" / "last.ckpt"
            self.checkpoint = last if (cfg.run.resume and not cfg.run.force and last.exists()) else None
        else:  # skip (writing nothing), or hold the folder's lock
            plan, self.lock, self.run_log = start_run(cfg, self.run_dir, cfg_hash, overrides)
            self.skipped, self.previous, self.checkpoint = plan.action == "skip", plan.previous, plan.checkpoint
        self.summary = None if self.skipped else new_record(
            run_facts(cfg), config_hash=cfg_hash, git_commit=git_commit(), start_time=start_time,
            run_dir=str(self.run_dir), resumed_from=str(self.checkpoint) if self.checkpoint else None)
        self.signals = SignalRecorder()
        self._entered = False

    def __enter__(self) -> dict:
        if self.skipped or self._entered:  # a programming error: the folder is not this run's to write
            raise RuntimeError(f"run in {self.run_dir} is {'skipped' if self.skipped else 'already entered'}")
        self._entered = True
        self.signals.__enter__()
        return self.summary

    def __exit__(self, exc_type, error, traceback) -> bool:
        self.signals.__exit__(exc_type, error, traceback)
        try:
            if error is not None:  # Ctrl-C, SIGTERM and failures all leave a summary
                self.summary.update(describe_failure(error, self.signals.received, self.summary["steps"],
                                                     self.run_dir))
                if self.summary["status"] == INTERRUPTED:
                    raise RunInterrupted(self.summary["error"], self.summary["stop_reason"]) from error
        finally:
            self._close()
        return False  # the body's exception goes on

    def _close(self) -> None:
        self.summary["end_time"] = now()
        try:
            self.finish_logger(self.summary)
        finally:
            if not self.worker:
                close_run(self.run_dir, self.summary, self.run_log, self.lock)  # summary.json, log, lock
