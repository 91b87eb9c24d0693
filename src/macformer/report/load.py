"""Read every run's `summary.json` under a folder into one pandas DataFrame.

One row per run. Columns follow the summary schema written by training (task,
attention, kernel, ppsbn, num_features, causal, protocol, dataset, tag, seed, profile,
status, error, val_accuracy, test_accuracy, chance_accuracy, test_examples, ...) plus
`column` (the table column: task and data set), `env` (the environment in one line,
`environment not recorded` for a summary written before the field) and `path`, the
summary's path relative to the runs folder (or to `paths_from`). Accuracies stay
fractions here; the tables show percent.

A file that cannot be read, or breaks the schema (validate.py), is not skipped
silently: it is returned as a problem and the report lists it as invalid. A run is
its row, seed, tag, protocol and data set (RUN_KEY): runs
with different tags are different rows. When one run has several summaries (a failed
run retried, a copy of a run folder), the one that its folder's `run_identity.json`
confirms wins, then the completed one, then a stopped one, then the latest; if the set-aside summaries were written under other settings (another
config_hash), that is a `Conflict` and the tables say so in a footnote on the cell.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from macformer.data.tasks import LRA_TASKS, TASKS  # noqa: F401  (LRA_TASKS: the report's columns)
from macformer.lifecycle.environment import one_line
from macformer.lifecycle.record import (  # noqa: F401
    COMPLETED,
    FAILED,
    IDENTITY_NAME,
    INTERRUPTED,
    MISSING,
    SCHEMA,
    STOPPED,
    SUMMARY_NAME,
    read_json,
)

from .validate import invalid_reason

TASK_TITLES: dict[str, str] = {
    "listops": "ListOps", "text": "Text", "retrieval": "Retrieval", "image": "Image",
    "pathfinder": "Pathfinder", "pathx": "Path-X",
}
# Row order of the tables: baselines first, then the kernel attentions.
ATTENTION_ORDER: tuple[str, ...] = (
    "softmax", "softmax_materialized", "rfa", "performer", "kernelized", "rmfa",
)
PROFILE_ORDER: tuple[str, ...] = ("paper", "cpu", "smoke")

# Columns: the run record's keys (macformer.lifecycle.record.SCHEMA).
COLUMNS: tuple[str, ...] = tuple(SCHEMA)
LRA_DATA = "lra"  # `dataset` of the LRA data itself
DEFAULT_PROTOCOL = "lra"
# A summary without `dataset` (written before the field existed) cannot pass for LRA data.
UNRECORDED_DATASET = "unrecorded"
# A run is identified by these; duplicates are resolved (see module docstring).
RUN_KEY: tuple[str, ...] = ("profile", "task", "dataset", "attention", "kernel", "ppsbn",
                            "num_features", "causal", "protocol", "tag", "pretrain", "seed")
# A table row: the variant; seeds are averaged within it.
VARIANT_KEY: tuple[str, ...] = ("profile", "attention", "kernel", "ppsbn", "num_features",
                                "causal", "protocol", "tag", "pretrain")


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass(frozen=True)
class Conflict:
    """Summaries of one run (same row, seed, tag) written under different settings."""

    kept: str  # path of the summary in the tables
    kept_hash: str | None
    set_aside: tuple[tuple[str, str | None], ...]  # (path, config_hash) of the others
    # Whether the kept summary's config_hash is the one its folder's run_identity.json
    # names (None: the folder has none), which is why it was kept.
    kept_matches_identity: bool | None = None


@dataclass
class Runs:
    frame: pd.DataFrame  # one row per run, after de-duplication
    problems: list[Problem]  # summaries that could not be read
    superseded: int  # summaries replaced by a newer or completed one of the same run
    conflicts: list[Conflict] = field(default_factory=list)  # of those, other settings
    found: int = 0  # summary.json files found (readable or not)
    # Every valid summary found, superseded ones too: its path -> its profile.
    profiles: dict[str, str] = field(default_factory=dict)

    def of_profile(self, profile: str) -> Runs:
        frame = self.frame[self.frame["profile"] == profile].reset_index(drop=True)
        paths = set(frame["path"])
        return replace(self, frame=frame, conflicts=[c for c in self.conflicts if c.kept in paths])


def load_runs(runs_dir: str | Path, *, paths_from: str | Path | None = None,
              skip=None) -> Runs:
    """`paths_from`: the folder the `path` column is relative to (default `runs_dir`, which
    it must hold); `skip(path)`: True for a summary.json to leave out (the report's copies)."""
    runs_dir = Path(runs_dir)
    base = Path(paths_from) if paths_from is not None else runs_dir
    records: list[dict] = []
    problems: list[Problem] = []
    paths = sorted(runs_dir.rglob(SUMMARY_NAME)) if runs_dir.is_dir() else []
    paths = [path for path in paths if skip is None or not skip(path)]
    for path in paths:
        rel = _relative(path, base)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(Problem(rel, f"unreadable: {err}"))
            continue
        reason = invalid_reason(record)
        if reason:
            problems.append(Problem(rel, reason))
            continue
        records.append({**_normalise(record, rel), "identity": _identity_match(path.parent, record)})
    frame = pd.DataFrame.from_records(records, columns=[*COLUMNS, "column", "env", "path", "identity",
                                                        "pretrain_seconds"])
    # Identity columns keep Python values (None, int, bool), not NaN-filled floats.
    for key in (*RUN_KEY, "status", "error", "device", "config_hash", "git_commit", "environment",
                "column", "env", "path", "identity"):
        frame[key] = pd.Series([r[key] for r in records], index=frame.index, dtype=object)
    profiles = {r["path"]: r["profile"] for r in records}
    frame, superseded, conflicts = _deduplicate(frame)
    return Runs(frame=frame, problems=problems, superseded=superseded, conflicts=conflicts,
                found=len(paths), profiles=profiles)


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:  # one of them given through a link or as an absolute path
        return path.resolve().relative_to(base.resolve()).as_posix()


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
    if row["ppsbn"] is None and options is not None and "ppsbn" in options:
        row["ppsbn"] = bool(options["ppsbn"])  # a summary that left it out ran the default
    # Older summaries have no `causal`: their attentions ran non-causally (the old default).
    row["causal"] = (bool(_as_bool(row["causal"])) if options is not None and "causal" in options
                     else None)
    row["protocol"] = str(row["protocol"] or DEFAULT_PROTOCOL)
    row["tag"] = str(row["tag"]) if row["tag"] not in (None, "") else None
    # Self-pretrained (mlm, lm) or from scratch (None: every summary from before the field).
    row["pretrain"] = str(row["pretrain"]) if row["pretrain"] not in (None, "", "none") else None
    pretraining = row["pretraining"] if isinstance(row["pretraining"], dict) else {}
    row["pretrain_seconds"] = (float(pretraining["seconds"]) if isinstance(pretraining.get("seconds"), (int, float))
                               and math.isfinite(pretraining["seconds"]) else None)
    if not row["dataset"]:  # a run skipped for absent data has none: it sits under LRA data
        row["dataset"] = LRA_DATA if row["status"] == MISSING else UNRECORDED_DATASET
    row["dataset"] = str(row["dataset"])
    row["column"] = column_key(row["task"], row["dataset"])
    row["env"] = one_line(row["environment"])
    for key in ("num_features", "seed", "seq_len", "batch_size", "test_examples", "steps",
                "max_steps"):
        row[key] = int(row[key]) if isinstance(row[key], (int, float)) and not isinstance(
            row[key], bool) and math.isfinite(row[key]) else None
    for key in ("val_accuracy", "test_accuracy", "chance_accuracy", "train_tokens_per_second",
                "train_steps_per_second", "peak_memory_mb", "train_seconds"):
        value = row[key]
        row[key] = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
    return row


@functools.cache
def _options(attention: str) -> dict[str, object] | None:
    """The options a registered attention takes, with their defaults; None for a name
    the registry lacks."""
    from macformer.attention import attention_options, attentions

    return dict(attention_options(attention)) if attention in attentions() else None


def _identity_match(folder: Path, record: dict) -> bool | None:
    """Whether the summary's config_hash is the one its run folder's run_identity.json
    names (the settings the folder's run started with); None when there is none."""
    identity = read_json(folder / IDENTITY_NAME)
    if identity is None or not isinstance(identity.get("config_hash"), str):
        return None
    return identity["config_hash"] == record.get("config_hash")


def _deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, list[Conflict]]:
    if frame.empty:
        return frame, 0, []
    # Preference: a summary its folder's run_identity.json confirms (then one in a folder
    # without it, last one it contradicts), then completed, then stopped, then the
    # latest end_time, then the path (for ties).
    ranked = frame.assign(
        _identity=frame["identity"].map({True: 2, None: 1, False: 0}).fillna(1).astype(int),
        _done=frame["status"].map({COMPLETED: 2, STOPPED: 1}).fillna(0).astype(int),
        _end=frame["end_time"].fillna("").astype(str),
    ).sort_values(["_identity", "_done", "_end", "path"], ascending=[False, False, False, True],
                  kind="mergesort")
    keys = pd.Series([repr(tuple(k)) for k in ranked[list(RUN_KEY)].itertuples(index=False)],
                     index=ranked.index)
    conflicts = []
    for _, group in ranked.groupby(keys, sort=False):
        kept, others = group.iloc[0], group.iloc[1:]
        differing = tuple((o["path"], o["config_hash"]) for _, o in others.iterrows()
                          if o["config_hash"] != kept["config_hash"])
        if differing:
            conflicts.append(Conflict(kept["path"], kept["config_hash"], differing, kept["identity"]))
    kept = ranked[~keys.duplicated(keep="first")].drop(columns=["_identity", "_done", "_end"])
    kept = kept.sort_values("path", kind="mergesort").reset_index(drop=True)
    return kept, len(frame) - len(kept), sorted(conflicts, key=lambda c: c.kept)


def column_key(task: str, dataset: str) -> str:
    """A table column: the task on LRA data (`listops`) or on another data set
    (`listops@listops-short`), so the two never share a column."""
    return task if dataset == LRA_DATA else f"{task}@{dataset}"


def column_task(column: str) -> str:
    return column.split("@", 1)[0]


def column_dataset(column: str) -> str:
    return column.split("@", 1)[1] if "@" in column else LRA_DATA


def column_title(column: str) -> str:
    """`ListOps` for LRA data, `ListOps (listops-short)` for another data set."""
    task, dataset = column_task(column), column_dataset(column)
    title = TASK_TITLES.get(task, task)
    if dataset == LRA_DATA:
        return title
    return f"{title} ({'data set not recorded' if dataset == UNRECORDED_DATASET else dataset})"


def column_sort_key(column: str) -> tuple:
    task, dataset = column_task(column), column_dataset(column)
    order = TASKS.index(task) if task in TASKS else len(TASKS)
    return (order, task, dataset != LRA_DATA, dataset)


def profile_sort_key(profile: str) -> tuple:
    return (PROFILE_ORDER.index(profile) if profile in PROFILE_ORDER else len(PROFILE_ORDER), profile)


def table_columns(columns) -> list[str]:
    """The five LRA tasks always (on LRA data unless some run used another data set for
    the task), Path-X and any other task or data set only when some run has it."""
    present = set(columns)
    out = set(present)
    for task in LRA_TASKS:
        if not any(column_task(c) == task for c in present):
            out.add(task)
    return sorted(out, key=column_sort_key)


def _as_bool(value) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)
