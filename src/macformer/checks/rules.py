"""What a setting may hold: each rule tests a value and describes what it allows, so that
every error reads `<key> must be <what it allows>, got <value>` (or, for a list of
choices, `<key>=<value> is not allowed; allowed values: a, b`).

Booleans are never numbers here (Python's True == 1), and numbers must be finite.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _or_null(text: str, null: bool) -> str:
    return f"{text} or null" if null else text


@dataclass(frozen=True)
class Integer:
    low: int | None = None
    high: int | None = None
    null: bool = False

    def allows(self, value) -> bool:
        if value is None:
            return self.null
        return is_integer(value) and (self.low is None or value >= self.low) and (
            self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.high is not None:
            text = f"an integer in [{self.low}, {self.high}]"
        elif self.low == 1:
            text = "a positive integer"
        elif self.low is not None:
            text = f"an integer ≥ {self.low}"
        else:
            text = "an integer"
        return _or_null(text, self.null)


@dataclass(frozen=True)
class Number:
    """A finite number in [low, high] (`open_low` / `open_high` exclude the bound)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    null: bool = False

    def allows(self, value) -> bool:
        if value is None:
            return self.null
        if not is_number(value):
            return False
        above = self.low is None or (value > self.low if self.open_low else value >= self.low)
        below = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return above and below

    def describe(self) -> str:
        if self.low == 0 and self.open_low and self.high is None:
            text = "a positive finite number"
        elif self.high is None:
            text = f"a finite number {'>' if self.open_low else '≥'} {self.low}"
        else:
            text = (f"a number in {'(' if self.open_low else '['}{self.low}, {self.high}"
                    f"{')' if self.open_high else ']'}")
        return _or_null(text, self.null)


@dataclass(frozen=True)
class OneOf:
    choices: tuple

    def allows(self, value) -> bool:
        # `True in (1,)` is True in Python: compare types as well as values.
        return any(value == c and type(value) is type(c) for c in self.choices)

    def describe(self) -> str:
        return ", ".join(c if isinstance(c, str) else _yaml(c) for c in self.choices)


def Boolean(null: bool = False) -> OneOf:  # noqa: N802  (reads as a rule, like the classes)
    return OneOf((True, False, None) if null else (True, False))


@dataclass(frozen=True)
class SafeName:
    """A folder name: letters, digits, `-` and `_`, so it can never leave its parent."""

    null: bool = False

    def allows(self, value) -> bool:
        if value is None:
            return self.null
        return isinstance(value, str) and SAFE_NAME.fullmatch(value) is not None

    def describe(self) -> str:
        return _or_null("a name of 1 to 64 letters, digits, '-' or '_'", self.null)


@dataclass(frozen=True)
class Text:
    """A non-empty string (a path, a label)."""

    null: bool = False

    def allows(self, value) -> bool:
        return (value is None and self.null) or (isinstance(value, str) and value.strip() != "")

    def describe(self) -> str:
        return _or_null("a non-empty string", self.null)


@dataclass(frozen=True)
class Duration:
    """Lightning's max_time: "DD:HH:MM:SS" or {days, hours, minutes, seconds}."""

    null: bool = True
    FIELDS = ("days", "hours", "minutes", "seconds")

    def allows(self, value) -> bool:
        if value is None:
            return self.null
        if isinstance(value, str):
            return re.fullmatch(r"\d+:\d{1,2}:\d{1,2}:\d{1,2}", value) is not None
        return (isinstance(value, Mapping) and bool(value) and set(value) <= set(self.FIELDS)
                and all(is_number(v) and v >= 0 for v in value.values()))

    def describe(self) -> str:
        return _or_null('"DD:HH:MM:SS" or {days, hours, minutes, seconds}', self.null)


@dataclass(frozen=True)
class PerTask:
    """null, or a mapping of task names to values of `each` (protocol.val_examples)."""

    tasks: Sequence[str]
    each: Integer

    def allows(self, value) -> bool:
        return value is None or (isinstance(value, Mapping) and all(
            k in self.tasks and self.each.allows(v) for k, v in value.items()))

    def describe(self) -> str:
        return (f"null or a mapping of tasks ({', '.join(self.tasks)}) to "
                f"{self.each.describe().replace('an integer', 'integers').replace('a positive integer', 'positive integers')}")


def problem(key: str, value, rule) -> str | None:
    """The one-line error for `key` holding `value`, or None when `rule` allows it."""
    if rule.allows(value):
        return None
    if isinstance(rule, PerTask) and isinstance(value, Mapping):  # name the entry at fault
        for task, each in value.items():
            if task not in rule.tasks:
                return f"{key}.{task}: {task!r} is not a task; tasks: {', '.join(rule.tasks)}"
            if found := problem(f"{key}.{task}", each, rule.each):
                return found
    if isinstance(rule, OneOf):
        return f"{key}={_yaml(value)} is not allowed; allowed values: {rule.describe()}"
    return f"{key} must be {rule.describe()}, got {_yaml(value)}"


def _yaml(value) -> str:
    """A value as it would be written on the command line (null, true, 'text')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if not isinstance(value, (Mapping, list, tuple)) else repr(
        dict(value) if isinstance(value, Mapping) else list(value))


# A setting that holds a list (the reproduce driver's groups and seeds): non-empty, no value
# twice (a repeated seed or group would plan the same runs again), each allowed by `each`.
@dataclass(frozen=True)
class ListOf:
    each: object  # a rule of rules.py

    def allows(self, value) -> bool:
        if not isinstance(value, Sequence) or isinstance(value, str) or not value:
            return False
        distinct = []
        for v in value:  # by value and type, as OneOf compares (True is not 1)
            if not self.each.allows(v) or any(v == d and type(v) is type(d) for d in distinct):
                return False
            distinct.append(v)
        return True

    def describe(self) -> str:
        if isinstance(self.each, OneOf):
            return f"a non-empty list of distinct values out of {self.each.describe()}"
        return f"a non-empty list of distinct values, each {self.each.describe()}"
