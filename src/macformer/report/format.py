"""Small formatting helpers shared by the tables and plots: pandas' missing values as
None, rounding, number cells, the line of an error worth showing."""

from __future__ import annotations

import pandas as pd


def py(value):
    """pandas' NaN/NA as None, numpy scalars as Python ones."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def ratio(a, b) -> float | None:
    a, b = py(a), py(b)
    return a / b if a is not None and b else None


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def num(value, fmt: str, missing: str = "not recorded") -> str:
    value = py(value)
    return missing if value is None else fmt.format(value)


def error_line(error: object, default: str = "no error message recorded", limit: int = 300) -> str:
    """The line of an error worth showing: the last non-empty one (a traceback's exception)."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    if not lines:
        return default
    text = lines[-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def steps_text(record: dict) -> str:
    """`300 / 1,000 steps` (or `300 steps` when the plan is unknown); "" when nothing is known."""
    steps, planned = py(record.get("steps")), py(record.get("max_steps"))
    if steps is None:
        return ""
    return f"{int(steps):,} / {int(planned):,} steps" if planned else f"{int(steps):,} steps"
