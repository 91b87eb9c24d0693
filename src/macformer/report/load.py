"""Read every run's `summary.json` under a folder into one pandas DataFrame.

One row per run. Columns follow the summary schema written by training (task,
attention, kernel, ppsbn, num_features, seed, profile, status, error, val_accuracy,
test_accuracy, train_tokens_per_second, peak_memory_mb, device, ...) plus `path`,
the summary's path relative to the runs folder. Accuracies stay fractions here; the
tables show percent.

A file that cannot be read is not skipped silently: it is returned as a problem and
the report lists it. When the same configuration and seed has several summaries (a
failed run retried, a copy of a run folder), the completed one wins, then the latest.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# The five LRA tasks in the paper's column order; Path-X is reported apart from the average.
LRA_TASKS: tuple[str, ...] = ("listops", "text", "retrieval", "image", "pathfinder")
TASKS: tuple[str, ...] = (*LRA_TASKS, "pathx")
TASK_TITLES: dict[str, str] = {
    "listops": "ListOps", "text": "Text", "retrieval": "Retrieval", "image": "Image",
    "pathfinder": "Pathfinder", "pathx": "Path-X",
}
# Row order of the tables: baselines first, then the kernel attentions.
ATTENTION_ORDER: tuple[str, ...] = (
    "softmax", "softmax_materialized", "rfa", "performer", "kernelized", "rmfa",
)
KERNEL_ORDER: tuple[str, ...] = ("exp", "inverse", "log", "trigh", "sqrt")
PROFILE_ORDER: tuple[str, ...] = ("paper", "cpu", "smoke")

# Status values: `completed`, `failed`, `interrupted` (written by training) and
# `missing` (written by the reproduce driver when a task's data is absent).
COMPLETED, FAILED, INTERRUPTED, MISSING = "completed", "failed", "interrupted", "missing"

COLUMNS: tuple[str, ...] = (
    "task", "attention", "kernel", "ppsbn", "num_features", "seed", "profile", "status",
    "error", "val_accuracy", "test_accuracy", "best_step", "steps", "train_seconds",
    "train_tokens_per_second", "train_steps_per_second", "peak_memory_mb", "device", "params",
    "seq_len", "batch_size", "config_hash", "git_commit", "start_time", "end_time",
)
# A run is identified by these; duplicates are resolved (see module docstring).
RUN_KEY: tuple[str, ...] = ("profile", "task", "attention", "kernel", "ppsbn", "num_features", "seed")
# A table row: the variant; seeds are averaged within it.
VARIANT_KEY: tuple[str, ...] = ("profile", "attention", "kernel", "ppsbn", "num_features")

SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class Runs:
    frame: pd.DataFrame  # one row per run, after de-duplication
    problems: list[Problem]  # summaries that could not be read
    superseded: int  # summaries replaced by a newer or completed one of the same run


def load_runs(runs_dir: str | Path) -> Runs:
    runs_dir = Path(runs_dir)
    records: list[dict] = []
    problems: list[Problem] = []
    paths = sorted(runs_dir.rglob(SUMMARY_NAME)) if runs_dir.is_dir() else []
    for path in paths:
        rel = path.relative_to(runs_dir).as_posix()
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(Problem(rel, f"unreadable: {err}"))
            continue
        reason = _invalid(record)
        if reason:
            problems.append(Problem(rel, reason))
            continue
        records.append(_normalise(record, rel))
    frame = pd.DataFrame.from_records(records, columns=[*COLUMNS, "path"])
    # Identity columns keep Python values (None, int, bool), not NaN-filled floats.
    for key in (*RUN_KEY, "status", "error", "device", "path"):
        frame[key] = pd.Series([r[key] for r in records], index=frame.index, dtype=object)
    frame, superseded = _deduplicate(frame)
    return Runs(frame=frame, problems=problems, superseded=superseded)


def _invalid(record: object) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    for key in ("task", "attention", "status"):
        if not isinstance(record.get(key), str) or not record[key]:
            return f"no {key!r}"
    for key in ("val_accuracy", "test_accuracy"):
        value = record.get(key)
        if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            return f"{key} = {value!r} is not a fraction in [0, 1]"
    return None


def _normalise(record: dict, rel: str) -> dict:
    row = {key: record.get(key) for key in COLUMNS}
    row["path"] = rel
    row["status"] = row["status"].strip().lower()
    row["profile"] = row["profile"] or "unknown"
    # A field the attention does not take (softmax has no kernel) is meaningless: drop it.
    options = _options(row["attention"])
    for key in ("kernel", "ppsbn", "num_features"):
        if options is not None and key not in options:
            row[key] = None
    row["ppsbn"] = _as_bool(row["ppsbn"])
    for key in ("num_features", "seed", "seq_len", "batch_size"):
        row[key] = int(row[key]) if isinstance(row[key], (int, float)) and not isinstance(
            row[key], bool) and math.isfinite(row[key]) else None
    for key in ("val_accuracy", "test_accuracy", "train_tokens_per_second",
                "train_steps_per_second", "peak_memory_mb", "train_seconds"):
        value = row[key]
        row[key] = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
    return row


@functools.cache
def _options(attention: str) -> frozenset[str] | None:
    """The options a registered attention takes; None for a name the registry lacks."""
    from macformer.attention import ATTENTIONS, attention_options

    return frozenset(attention_options(attention)) if attention in ATTENTIONS else None


def _deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    if frame.empty:
        return frame, 0
    # Preference: completed first, then the latest end_time, then the path (for ties).
    ranked = frame.assign(
        _done=(frame["status"] == COMPLETED).astype(int),
        _end=frame["end_time"].fillna("").astype(str),
    ).sort_values(["_done", "_end", "path"], ascending=[False, False, True], kind="mergesort")
    keys = pd.Series([repr(tuple(k)) for k in ranked[list(RUN_KEY)].itertuples(index=False)],
                     index=ranked.index)
    kept = ranked[~keys.duplicated(keep="first")].drop(columns=["_done", "_end"])
    kept = kept.sort_values("path", kind="mergesort").reset_index(drop=True)
    return kept, len(frame) - len(kept)


def variant_sort_key(attention: str, kernel: str | None, ppsbn: bool | None,
                     num_features: int | None) -> tuple:
    """Table order: softmax, rfa, performer, kernelized, rmfa (kernels in paper order,
    the no-ppSBN ablation rows after the ppSBN ones), anything else alphabetically after."""
    a = ATTENTION_ORDER.index(attention) if attention in ATTENTION_ORDER else len(ATTENTION_ORDER)
    k = KERNEL_ORDER.index(kernel) if kernel in KERNEL_ORDER else len(KERNEL_ORDER)
    p = {None: 0, True: 1, False: 2}.get(_as_bool(ppsbn), 3)
    return (a, attention, kernel is not None, p, k, str(kernel),
            num_features if isinstance(num_features, int) else -1)


def profile_sort_key(profile: str) -> tuple:
    return (PROFILE_ORDER.index(profile) if profile in PROFILE_ORDER else len(PROFILE_ORDER), profile)


def task_columns(tasks) -> list[str]:
    """The five LRA tasks always, Path-X and any other task only when some run has it."""
    present = set(tasks)
    extra = sorted(t for t in present if t not in TASKS)
    return [*LRA_TASKS, *(["pathx"] if "pathx" in present else []), *extra]


def _as_bool(value) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)
