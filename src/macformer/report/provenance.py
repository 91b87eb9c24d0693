"""What the runs of a table were made with, from their summaries alone: the Provenance
section that ends accuracy.md and efficiency.md, and provenance.csv (one row per run).

Commits (`git_commit`), environments (`environment`, in one line by
lifecycle.environment.one_line; `environment not recorded` for a summary written before
the field), devices and dates (the first `start_time` … the last `end_time`), each with
how many runs it covers. Nothing comes from the machine that builds the report (no
build date, no absolute path), so a rebuild from the same summaries is byte for byte
the same. Environments are named `E1`, `E2`, … in the order they first ran, the same
names in every file of a profile.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pandas as pd

from .document import Cell, Document, Table
from .format import py
from .load import Runs
from .variants import variant_label, variant_of, variants_of

NOT_RECORDED = "not recorded"
PROVENANCE_COLUMNS = ("path", "profile", "column", "label", "seed", "status", "git_commit",
                      "environment_label", "environment", "device", "start_time", "end_time",
                      "config_hash", "best_checkpoint", "best_checkpoint_sha256")


def when(text) -> datetime | None:
    """An ISO 8601 time as recorded (a naive one taken as UTC), None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def environment_labels(frame: pd.DataFrame) -> dict[str, str]:
    """One-line environment -> `E1`, `E2`, …: by the earliest start_time of a run made in it
    (environments without a readable time last), then by the line itself."""
    first: dict[str, datetime | None] = {}
    for env, start in zip(frame["env"], frame["start_time"], strict=True):
        moment = when(py(start))
        if env not in first or (moment is not None and (first[env] is None or moment < first[env])):
            first[env] = moment
    latest = datetime.max.replace(tzinfo=timezone.utc)
    order = sorted(first, key=lambda env: (first[env] or latest, env))
    return {env: f"E{i}" for i, env in enumerate(order, start=1)}


def provenance_section(doc: Document, frame: pd.DataFrame, labels: dict[str, str], profile: str,
                       what: str) -> None:
    """The `## Provenance` heading and table for the runs in `frame` (`what`: which runs
    those are, for the sentence above the table)."""
    doc.heading("Provenance", level=2)
    doc.paragraph(
        f"What the {len(frame)} run(s) {what} were made with, as their summaries record it: "
        "commit (`+dirty`: the working tree had changes), environment (Python, torch and its "
        "build, packages, OS, CPU and threads or GPU), device, and the first start … last end "
        "(UTC); runs: how many runs each covers. Every run's `summary.json`, `overrides.yaml` "
        "and learning curve (`csv/metrics.csv`) are copied under `runs/` beside this file "
        "(never its checkpoints), and `macformer-report --runs <this folder>/runs --out "
        f"<another folder> --profile {profile}` rebuilds these tables byte for byte.")
    envs = sorted(set(frame["env"]), key=lambda env: labels.get(env, env))
    if len(envs) > 1:
        doc.paragraph(
            f"These runs come from {len(envs)} environments ({', '.join(labels[e] for e in envs)}). "
            "Accuracies are averaged over seeds whatever the environment; speed and memory never "
            "are (efficiency.md keeps each environment in its own rows, compares each with "
            "softmax of its own environment, and marks columns that set environments side by side).")
    rows = []
    for commit, n in _counted(frame["git_commit"]):
        rows.append([Cell("commit"), Cell(f"`{commit}`" if commit != NOT_RECORDED else commit),
                     Cell(str(n))])
    counts = Counter(frame["env"])
    for env in envs:
        name = f"environment {labels[env]}" if len(labels) > 1 else "environment"
        rows.append([Cell(name), Cell(env), Cell(str(counts[env]))])
    for device, n in _counted(frame["device"]):
        rows.append([Cell("device"), Cell(device), Cell(str(n))])
    rows.append([Cell("dates"), *_dates(frame)])
    if frame.empty:
        rows = [[Cell("runs"), Cell("none"), Cell("0")]]
    doc.table(Table(["what", "recorded", "runs"], rows, "llr",
                    caption=f"Provenance of the runs, profile {profile}"))


def _counted(values) -> list[tuple[str, int]]:
    """(value, runs) by most runs first, then by value; a null value as `not recorded`."""
    counts = Counter(str(py(v)) if py(v) not in (None, "") else NOT_RECORDED for v in values)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _dates(frame: pd.DataFrame) -> list[Cell]:
    """[first start … last end, runs with a recorded time], as the summaries write them."""
    starts = [(when(py(t)), py(t)) for t in frame["start_time"]]
    ends = [(when(py(t)), py(t)) for t in frame["end_time"]]
    starts, ends = [s for s in starts if s[0]], [e for e in ends if e[0]]
    timed = sum(1 for s, e in zip(frame["start_time"], frame["end_time"], strict=True)
                if when(py(s)) or when(py(e)))
    if not timed:
        return [Cell(NOT_RECORDED), Cell("0")]
    first = min(starts)[1] if starts else NOT_RECORDED
    last = max(ends)[1] if ends else NOT_RECORDED
    return [Cell(f"{first} … {last}"), Cell(str(timed))]


def provenance_frame(runs: Runs, labels: dict[str, str]) -> pd.DataFrame:
    """provenance.csv: one row per run of the report (by path), where it was made and with what."""
    variants = variants_of(runs)
    rows = []
    for _, r in runs.frame.sort_values("path", kind="mergesort").iterrows():
        rows.append({**{key: py(r.get(key)) for key in PROVENANCE_COLUMNS if key in r},
                     "label": variant_label(variant_of(r), variants),
                     "environment_label": labels.get(r["env"]), "environment": r["env"]})
    return pd.DataFrame(rows, columns=list(PROVENANCE_COLUMNS))

