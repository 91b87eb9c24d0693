"""`macformer-reproduce --verify results/<profile> [--cell TASK/ROW/seedK]` (`make verify`):
re-run one committed cell of a report from its recorded command line, in a temporary
folder, and compare it with the committed summary.

The cell is the one named, else the cheapest completed one (the fewest recorded training
seconds, a self-pretraining's included). Its recorded overrides
(`runs/<task>/<row>/seed<k>/overrides.yaml`, written by macformer-report) are run by
`macformer-train` in a fresh process with the recorded thread count, its results and logs
in the temporary folder, its data in --data-dir (ListOps and
Pathfinder are generated there when missing, as a run generates them). Compared:
- the settings: the re-run's config_hash must be the committed one (else the configs or
  code changed since the committed commit, and nothing else is compared);
- steps, and the test accuracy: on the committed run's own CPU environment (every
  recorded software and hardware key equal, macformer.evaluation.agreement) CPU training
  is deterministic, so steps, best step, validation and test accuracy must be equal to the
  last digit; elsewhere steps must be equal and the test accuracy within three standard
  errors of the test-set estimate, 3·sqrt(p(1-p)/n): a training on other rounding is
  another draw, as another seed is, and is judged only as far as the test set can tell.
Exit 0 when the cell agrees, 1 when it does not, 2 when there is nothing to verify.
The folder is removed when the cell agrees (unless --verify-dir named it), kept otherwise.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from macformer.evaluation.agreement import environment_differences
from macformer.evaluation.record import CannotRetest, RunRecord, read_record
from macformer.lifecycle.environment import describe as describe_environment
from macformer.lifecycle.record import COMPLETED, SUMMARY_NAME, read_summary

from .progress import clock, run_progress

# Overrides of the recorded command line that say where, not what (none is hashed): the
# re-run sets its own folders and logs to CSV only.
WHERE = ("paths.", "hydra.", "logger=", "run.sweep_id=", "+logger")
STANDARD_ERRORS = 3


class NothingToVerify(Exception):
    """The report holds no cell to verify as asked (one line; exit 2)."""


def committed_cells(report_dir: Path) -> dict[str, RunRecord]:
    """`<task>/<row>/seed<k>` → its committed record, for every completed cell of the report."""
    runs = report_dir / "runs"
    if not runs.is_dir():
        raise NothingToVerify(f"{report_dir}: no runs/ folder of committed run records (macformer-report "
                              "writes it beside the tables)")
    cells = {}
    for summary in sorted(runs.rglob(SUMMARY_NAME)):
        try:
            record = read_record(summary.parent)
        except CannotRetest:
            continue  # not completed, or no command line: not a cell a number comes from
        cells[summary.parent.relative_to(runs).as_posix()] = record
    if not cells:
        raise NothingToVerify(f"{runs}: no completed run with its overrides.yaml")
    return cells


def choose_cell(cells: dict[str, RunRecord], name: str | None) -> tuple[str, RunRecord]:
    if name is not None:
        if name.strip("/") not in cells:
            raise NothingToVerify(f"--cell {name}: not a completed committed cell; choose from "
                                  f"{', '.join(cells)}")
        return name.strip("/"), cells[name.strip("/")]
    cheapest = min(cells, key=lambda c: (recorded_seconds(cells[c].summary), c))
    return cheapest, cells[cheapest]


def recorded_seconds(summary: dict) -> float:
    """The training seconds a summary records, its self-pretraining's included."""
    train = summary.get("train_seconds")
    pretraining = (summary.get("pretraining") or {}).get("seconds") or 0.0
    return math.inf if train is None else float(train) + float(pretraining)


def rerun_command(record: RunRecord, results_dir: Path, data_dir: str) -> list[str]:
    kept = [o for o in record.overrides if not o.startswith(WHERE)]
    return [sys.executable, "-m", "macformer.train", *kept, f"paths.results_dir={results_dir}",
            f"paths.data_dir={data_dir}", "logger=csv"]


def verify(report_dir: Path, cell: str | None, verify_dir: str | None, data_dir: str) -> int:
    try:
        name, record = choose_cell(committed_cells(report_dir), cell)
    except NothingToVerify as error:
        print(f"macformer-reproduce: error: {error}", file=sys.stderr, flush=True)
        return 2
    folder = Path(verify_dir) if verify_dir else Path(tempfile.mkdtemp(prefix="macformer-verify-"))
    folder.mkdir(parents=True, exist_ok=True)
    threads = str((record.summary.get("environment") or {}).get("threads") or os.cpu_count() or 1)
    why = "named" if cell else "the cheapest committed cell"
    seconds = recorded_seconds(record.summary)
    print(f"verify: {report_dir}: {name} ({why}; {clock(seconds) if math.isfinite(seconds) else '?'} of "
          f"training recorded, {threads} thread(s)); re-running it in {folder}", flush=True)
    started = time.monotonic()
    summary = rerun(record, folder, data_dir, threads)
    agreed, lines = compare_rerun(record, summary)
    for line in lines:
        print(f"verify: {line}", flush=True)
    verdict = "PASSED" if agreed else "FAILED"
    print(f"verify: {name}: {verdict} in {clock(time.monotonic() - started)}"
          + ("" if agreed or summary is None else f" (the re-run is kept in {folder})"), flush=True)
    if agreed and not verify_dir:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if agreed else 1


def rerun(record: RunRecord, folder: Path, data_dir: str, threads: str) -> dict | None:
    """Train the cell in a fresh process (its log in folder/verify.log), showing its step
    every half minute; the re-run's summary, or None when it left none."""
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "WANDB_MODE": "offline"}
    log = folder / "verify.log"
    with open(log, "w", encoding="utf-8") as out:
        child = subprocess.Popen(rerun_command(record, folder, data_dir), stdout=out, stderr=subprocess.STDOUT,
                                 env=env)
        while child.poll() is None:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                progress = [run_progress(p.parent) for p in folder.rglob("progress.json")]
                if progress and progress[0]:
                    print(f"verify: {progress[0][1]}", flush=True)
    summaries = [read_summary(p.parent) for p in folder.rglob(SUMMARY_NAME)]
    if child.returncode != 0 or len(summaries) != 1:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        print(f"verify: the re-run exited {child.returncode}; the end of {log}:", *tail, sep="\n  ", flush=True)
    return summaries[0] if len(summaries) == 1 else None


def compare_rerun(record: RunRecord, rerun_summary: dict | None) -> tuple[bool, list[str]]:
    """(whether the re-run agrees with the committed summary, a line per quantity)."""
    committed = record.summary
    if rerun_summary is None or rerun_summary.get("status") != COMPLETED:
        status = None if rerun_summary is None else rerun_summary.get("status")
        return False, [f"the re-run did not complete (status {status!r})"]
    if rerun_summary.get("config_hash") != committed.get("config_hash"):
        return False, [f"the re-run's settings are not the committed ones (config_hash "
                       f"{rerun_summary.get('config_hash')}, committed {committed.get('config_hash')}): the "
                       f"configs or code changed since commit {committed.get('git_commit') or '?'}"]
    differences = environment_differences(committed.get("environment"), rerun_summary.get("environment") or
                                          describe_environment(), committed.get("device", ""))
    lines, agreed = [], True
    exact_keys = ("steps", "best_step", "val_accuracy", "test_accuracy") if not differences else ("steps",)
    for key in exact_keys:
        same = rerun_summary.get(key) == committed.get(key)
        agreed &= same
        lines.append(f"{key}: committed {committed.get(key)!r}, re-run {rerun_summary.get(key)!r}: "
                     f"{'equal' if same else 'NOT equal'}")
    if not differences:
        lines.append("the committed run's own CPU environment: equal to the last digit is required")
        return agreed, lines
    p, n = float(committed.get("test_accuracy") or 0), int(committed.get("test_examples") or 1)
    allowed = STANDARD_ERRORS * math.sqrt(p * (1 - p) / n)
    measured = float(rerun_summary.get("test_accuracy") or 0)
    within = abs(measured - p) <= allowed
    exact = rerun_summary.get("test_accuracy") == committed.get("test_accuracy")
    lines.append(f"another environment than the committed run's ({'; '.join(differences)}): test accuracy "
                 f"committed {100 * p:.2f} %, re-run {100 * measured:.2f} %: "
                 f"{'equal to the last digit, ' if exact else ''}{'within' if within else 'OUTSIDE'} "
                 f"{STANDARD_ERRORS} standard errors of the test set (±{100 * allowed:.2f} points, n = {n})")
    return agreed and within, lines
