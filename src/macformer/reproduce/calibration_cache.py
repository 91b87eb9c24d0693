"""The calibration cache: <results>/calibration/<device>.json, one Measurement per shape
under the code version and the slot layout.

The cache is data a user may edit: every entry is checked when the file is read (its keys,
their types, finite and positive numbers); a bad one is dropped with one warning line
naming the file, the file is written back without it, and the shape is measured again.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from macformer import atomic
from macformer.lifecycle.record import read_json

ROOT = Path(__file__).resolve().parents[3]
OOM_MARKERS = ("out of memory", "outofmemoryerror", "memoryerror", "killed by signal sigkill")



def code_version() -> str:
    """sha256 (12 hex) of what can change a run's speed: the package's sources (minus the
    driver and the report) and the training configs (minus the sweep lists)."""
    digest = hashlib.sha256()
    files = [p for p in sorted((ROOT / "src" / "macformer").rglob("*.py"))
             if not {"reproduce", "report"} & set(p.parts)]
    files += [p for p in sorted((ROOT / "conf").rglob("*.yaml")) if "sweep" not in p.parts]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Measurement:
    wall_s: float  # the calibration run, start to end
    steps: int
    step_s: float  # one training step, its data loading included
    validation_s: float  # one validation with its checkpoints
    fixed_s: float  # start-up, data, warm-up, test, teardown: once per run
    peak_memory_mb: float | None
    tokens_per_s: float | None
    error: str | None = None  # the calibration failed: why
    fits: bool = True  # False: it ran out of memory
    inputs: str = "data"  # "data": the task's own; "random": random inputs of its shape

    def run_seconds(self, max_steps: int, eval_every: int, steps_done: int = 0) -> float:
        """Estimated wall seconds of a run (the steps still to do, when it resumes)."""
        validations = max_steps // eval_every - steps_done // eval_every
        return self.fixed_s + (max_steps - steps_done) * self.step_s + validations * self.validation_s


def measure(summary: dict, wall_s: float, phases_path: Path) -> Measurement:
    """The Measurement of a finished calibration run."""
    error = summary.get("error") if summary.get("status") != "completed" else None
    phases = read_json(phases_path)
    if error or not phases or len(phases["batch_starts"]) < 3:
        text = error or f"no phase timings in {phases_path}"
        fits = not any(m in text.lower() for m in OOM_MARKERS)
        return Measurement(wall_s, 0, 0.0, 0.0, wall_s, summary.get("peak_memory_mb"), None,
                           text.splitlines()[0][:300], fits)
    starts = phases["batch_starts"]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    warm = min(3, len(gaps) // 3)  # the first steps (allocator, autotuning) are slower
    step = sum(gaps[warm:]) / len(gaps[warm:])
    # The last batch, the validation after it and its checkpoints, until training ends.
    validation = max(0.0, phases["train_end"] - starts[-1] - step)
    steps = len(starts)
    fixed = max(0.0, wall_s - steps * step - validation)
    return Measurement(wall_s, steps, step, validation, fixed, summary.get("peak_memory_mb"),
                       summary.get("train_tokens_per_second"))


def entry_problem(entry) -> str | None:
    """What is wrong with one cached entry (a Measurement as JSON), or None."""
    if not isinstance(entry, dict):
        return f"a {type(entry).__name__}, not an object"
    names = {f.name for f in fields(Measurement)}
    if unknown := sorted(set(entry) - names):
        return f"unknown key(s) {', '.join(map(str, unknown))}"
    if missing := sorted(names - set(entry) - {"error", "fits", "inputs"}):
        return f"missing key(s) {', '.join(missing)}"

    def number(key, optional=False, positive=False):
        value = entry.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{key}={value!r} is not a finite number"
        if value < 0 or (positive and value == 0):
            return f"{key}={value!r} is not {'positive' if positive else '>= 0'}"
        return None

    error = entry.get("error")
    problems = [number(k) for k in ("validation_s", "fixed_s")] + [
        number("wall_s", positive=True), number("step_s", positive=error is None),
        number("peak_memory_mb", optional=True), number("tokens_per_s", optional=True)]
    if isinstance(entry["steps"], bool) or not isinstance(entry["steps"], int) or entry["steps"] < 0:
        problems.append(f"steps={entry['steps']!r} is not a whole number >= 0")
    if error is not None and not isinstance(error, str):
        problems.append(f"error={error!r} is not text")
    if not isinstance(entry.get("fits", True), bool):
        problems.append(f"fits={entry['fits']!r} is not true or false")
    if entry.get("inputs", "data") not in ("data", "random"):
        problems.append(f"inputs={entry['inputs']!r} is not data or random")
    if isinstance(error, str) and error.lower().startswith("interrupted"):
        problems.append("an interrupted calibration, not a measurement")
    return next((p for p in problems if p), None)


class Cache:
    """<results>/calibration/<device>.json: measurements by code version, layout and shape.
    Loading checks every entry; bad ones are dropped (one warning) and so measured again."""

    def __init__(self, results_dir: Path, device_slug: str, layout: str):
        self.path = Path(results_dir) / "calibration" / f"{device_slug}.json"
        self.prefix = f"{code_version()}|{layout}|"
        self.entries: dict = self._load()

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            return self._drop({}, f"it cannot be read as JSON ({str(error).splitlines()[0]}): "
                                  "every shape is measured again")
        if not isinstance(data, dict):
            return self._drop({}, f"it holds a {type(data).__name__}, not an object of measurements: "
                                  "every shape is measured again")
        bad = {key: why for key, entry in data.items() if (why := entry_problem(entry))}
        if bad:
            listed = "; ".join(f"{key.split('|')[-1]}: {why}" for key, why in list(bad.items())[:3])
            more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
            return self._drop({k: v for k, v in data.items() if k not in bad},
                              f"{len(bad)} bad entr{'y' if len(bad) == 1 else 'ies'} dropped, measured "
                              f"again ({listed}{more})")
        return data

    def _drop(self, kept: dict, why: str) -> dict:
        """Warn once and write the file back without what was dropped (so no later load warns)."""
        print(f"reproduce: warning: calibration cache {self.path}: {why}", file=sys.stderr, flush=True)
        try:
            atomic.write_text(self.path, json.dumps(kept, indent=1, sort_keys=True) + "\n")
        except OSError:
            pass  # a read-only results folder: the entries are measured again, not cached
        return kept

    def get(self, key: str) -> Measurement | None:
        entry = self.entries.get(self.prefix + key)
        return Measurement(**entry) if entry else None

    def put(self, key: str, measurement: Measurement) -> None:
        self.entries[self.prefix + key] = asdict(measurement)
        atomic.write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True) + "\n")

    def prior(self) -> tuple[float, float] | None:
        """(a step's seconds per position (batch × length), a calibration's fixed seconds):
        medians of this device's earlier measurements, any code version; to foresee the time
        a calibration takes."""
        rates, fixed = [], []
        for key, entry in self.entries.items():
            found = re.search(r"/L(\d+)/B(\d+)$", key)
            if found and entry.get("error") is None:
                rates.append(entry["step_s"] / (int(found[1]) * int(found[2])))
                fixed.append(entry["fixed_s"] + entry["validation_s"])
        return (sorted(rates)[len(rates) // 2], sorted(fixed)[len(fixed) // 2]) if rates else None

    @property
    def folder(self) -> Path:
        return self.path.with_suffix("")
