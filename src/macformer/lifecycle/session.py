"""Taking a run folder and giving it back: what train() does before and after training.

Start: a completed run is skipped before anything is written (no lock: a read-only
folder of completed runs can be run again). Otherwise the run takes the folder's lock,
decides skip / resume / start under it (lifecycle/resume.py), removes planted symlinks
and orphaned temporary files (lifecycle/run_folder.py), and writes its identity, configs
and train.log.

Close: summary.json, the closing lines, then the log and the lock are let go, also when
summary.json cannot be written (a full disk): that is said in one line, never hidden.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from .lock import RunLock
from .os_error import describe_os_error
from .outcome import RunError
from .provenance import RunLog, write_configs
from .record import COMPLETED, INTERRUPTED, STOPPED, SUMMARY_NAME, percent, write_summary
from .resume import Plan, completed_plan, hashed_settings, plan_run, write_identity
from .run_folder import prepare_run_folder

log = logging.getLogger("macformer.train")


class RunNotRecorded(RunError):
    """The run ended but its summary.json could not be written."""


def start_run(cfg: DictConfig, run_dir: Path, cfg_hash: str,
              overrides: Sequence[str]) -> tuple[Plan, RunLock | None, RunLog | None]:
    """(the plan, the lock held, train.log); lock and log are None when the run is skipped."""
    plan = None if cfg.run.force else completed_plan(run_dir, cfg_hash)
    if plan is not None:  # nothing of the completed run is touched
        log.info(plan.message)
        return plan, None, None
    lock = RunLock(run_dir).acquire()  # one process per run folder
    try:
        plan = None if cfg.run.force else completed_plan(run_dir, cfg_hash)  # completed meanwhile?
        if plan is None:
            prepare_run_folder(run_dir)
            plan = plan_run(run_dir, cfg_hash, resume=cfg.run.resume, force=cfg.run.force)
        if plan.message:
            (log.warning if plan.set_aside else log.info)(plan.message)
        if plan.action == "skip":
            lock.release()
            return plan, None, None
        write_identity(run_dir, cfg_hash, hashed_settings(cfg))
        write_configs(run_dir, cfg, overrides)
        return plan, lock, RunLog(run_dir)
    except BaseException:
        lock.release()
        raise


def close_run(run_dir: Path, summary: dict, run_log: RunLog, lock: RunLock) -> None:
    """Write summary.json and say how the run ended; release the log and the lock whatever happens.

    A summary that cannot be written raises RunNotRecorded (one line, naming the file, the
    filesystem and the outcome), except for an interrupted run, whose exit code (130, 143)
    must stay: that one is said on stderr."""
    try:
        try:
            path = write_summary(run_dir, summary)
        except OSError as error:
            outcome = summary["status"] + (f" ({summary['error']})" if summary.get("error") else "")
            message = (f"the run {outcome} but {Path(run_dir) / SUMMARY_NAME} could not be written: "
                       f"{describe_os_error(error)}")
            if summary["status"] == INTERRUPTED:
                print(f"error: {message}", file=sys.stderr, flush=True)
                return
            raise RunNotRecorded(message) from None
        log.info(f"{summary['status']}: {path}")
        if summary["status"] == COMPLETED and summary["test_accuracy"] is not None:
            log.info(f"test accuracy {percent(summary['test_accuracy'])} (best validation "
                     f"{percent(summary['val_accuracy'])} at step {summary['best_step']}; "
                     f"chance {percent(summary['chance_accuracy'])})")
        if summary["status"] in (STOPPED, INTERRUPTED):  # the command line's last word
            print(f"{summary['status']}: {summary['error']}", file=sys.stderr, flush=True)
    finally:
        run_log.close()
        lock.release()
