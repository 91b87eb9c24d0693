"""Published LRA numbers, kept as data beside this module (package data):

- `published_lra.csv`: test accuracy (%) per task and the average, one row per
  (source, model), with the reference it was copied from.
- `published_lra_efficiency.csv`: LRA paper Table 2 (Text, batch 32, TPU v3).
- `published_matches.csv`: which of our attentions each published model is compared
  with, and how close the match is.

Every number is copied from the paper or code named in its row's `reference`.
"""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

from .load import LRA_TASKS


def _read(name: str) -> pd.DataFrame:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    # Strings everywhere: an empty field stays "" ("not reported"), "fail" stays "fail".
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def published_accuracy() -> pd.DataFrame:
    return _read("published_lra.csv")


def published_efficiency() -> pd.DataFrame:
    frame = _read("published_lra_efficiency.csv")
    for key in ("batch", "length"):
        frame[key] = frame[key].astype(int)
    for key in ("steps_per_second", "peak_memory_gb"):
        frame[key] = frame[key].astype(float)
    return frame


def published_matches() -> pd.DataFrame:
    return _read("published_matches.csv")


def published_value(text: str) -> float | None:
    """A published cell as a number; None for "not reported" and for "fail"."""
    try:
        return float(text)
    except ValueError:
        return None


def check_published() -> list[str]:
    """Consistency of the data file: each average is the mean of its five tasks."""
    issues = []
    for _, row in published_accuracy().iterrows():
        values = [published_value(row[t]) for t in LRA_TASKS]
        avg = published_value(row["average"])
        if None in values or avg is None:
            issues.append(f"{row['source']} / {row['model']}: a task or the average is not a number")
        elif abs(sum(values) / len(values) - avg) > 0.006:
            issues.append(f"{row['source']} / {row['model']}: average {avg} != mean of tasks")
    return issues
