"""Talking to SLURM in one line: sbatch's own message for a rejected job; job states read
from `squeue` (and the jobs' own files) on clusters without accounting, where submitit's
sacct poll would warn "Bypassing sacct error" on every call; a submitted sweep watched
until it ends. hydra_plugins/macformer_slurm (`hydra/launcher=slurm`) uses the same."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path

from submitit.core.utils import FailedJobError
from submitit.slurm.slurm import SlurmInfoWatcher, SlurmJob

REJECTED_EXIT = 2  # a job sbatch refused: a usage error, as argparse's


@functools.cache
def accounting_enabled() -> bool:
    """Whether sacct can answer (asked once): no sacct, or AccountingStorageType=none, is no."""
    if shutil.which("sacct") is None:
        return False
    try:
        config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True,
                                timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in config.splitlines():
        if line.split("=")[0].strip() == "AccountingStorageType":
            return "accounting_storage/none" not in line
    return True


class QueueWatcher(SlurmInfoWatcher):
    """Job states from `squeue` (which keeps finished jobs for MinJobAge seconds); a job it
    no longer lists has ended: submitit then reads the job's own result file."""

    def _make_command(self) -> list[str] | None:
        if not self._registered - self._finished:
            return None
        return ["squeue", "--noheader", "--array", "--states=all", "--me", "--format=%i|%T"]

    def read_info(self, string: bytes | str) -> dict[str, dict[str, str]]:
        text = string.decode() if isinstance(string, bytes) else string
        listed = {}
        for line in text.splitlines():
            job_id, _, state = line.strip().partition("|")
            if job_id:
                listed[job_id] = {"JobID": job_id, "State": state}
        for job_id in self._registered - listed.keys():
            listed[job_id] = {"JobID": job_id, "State": "FINISHED"}
        return listed


def use_queue_when_no_accounting() -> bool:
    """Point submitit's SLURM jobs at squeue when accounting is off; True if it did."""
    if accounting_enabled():
        return False
    if not isinstance(SlurmJob.watcher, QueueWatcher):
        SlurmJob.watcher = QueueWatcher(delay_s=60)
        print("slurm: accounting is disabled on this cluster: job states come from squeue and "
              "the jobs' own files", file=sys.stderr, flush=True)
    return True


def sbatch_message(error: FailedJobError) -> str:
    """sbatch's own error lines as one line."""
    lines = [line.strip().removeprefix("sbatch: error: ") for line in str(error).splitlines() if line.strip()]
    return "sbatch: " + "; ".join(dict.fromkeys(lines))


def quiet_sbatch():
    """Around a submission: a rejected job raises FailedJobError with sbatch's message, which
    submitit also copies to stderr line by line; that copy is kept out of the output."""
    return redirect_stderr(io.StringIO())


def watch(jobs, every_s: float, progress_of) -> None:
    """Until every job has ended: a line when a job's state changes, and each running run's
    progress (`progress_of(run_dir)` -> text or None) at most every `every_s` seconds."""
    shown: dict[str, str] = {}
    progress_shown: dict[str, str] = {}
    last_progress = 0.0
    while True:
        pending = [job for job, _ in jobs if not job.done()]
        for job, runs in jobs:
            state = job.state if job in pending else "ENDED"
            if shown.get(job.job_id) != state:
                shown[job.job_id] = state
                print(f"reproduce: job {job.job_id} ({', '.join(name for name, _ in runs)}): {state}", flush=True)
        if not pending:
            return
        if time.monotonic() - last_progress >= every_s:
            last_progress = time.monotonic()
            for _, runs in jobs:
                for name, run_dir in runs:
                    text = progress_of(Path(run_dir))
                    if text and progress_shown.get(run_dir) != text:
                        progress_shown[run_dir] = text
                        print(f"reproduce:   {name}: {text}", flush=True)
        time.sleep(min(5.0, every_s))
