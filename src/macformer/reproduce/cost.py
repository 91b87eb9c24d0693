"""The costed plan: per task and row, runs, steps, tokens and the estimated hours on this
device (from calibration.py's measurements), the wall time on the slots, and after a sweep
the estimate beside the time it took (each run's `cost.json`).
"""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from macformer import atomic
from macformer.lifecycle.record import DONE, UNFINISHED, earlier_run, read_json

from .calibration import Cache, shape_key
from .progress import clock
from .sweep import Job

COST_NAME = "cost.json"  # in a run's folder: {"estimated_s", "actual_s", "device", "layout"}


@dataclass
class Costed:
    job: Job
    seconds: float | None  # estimated wall seconds still to run; None: not measured
    skip: str | None = None  # why it is not run (does not fit the device)
    done: bool = False  # completed before with these settings
    note: str | None = None  # e.g. its calibration failed
    peak_mb: float | None = None  # measured peak memory of its shape


def cost(jobs: list[Job], cache: Cache, device_name: str, slowdown: float = 1.0) -> list[Costed]:
    """Each job's estimated seconds; `slowdown`: how much longer a run takes beside others on
    its GPU than alone (measured; 1 where the measurement was made side by side)."""
    out = []
    for job in jobs:
        held, previous, _ = earlier_run(job.run_dir, job.config_hash)
        if held == DONE:
            out.append(Costed(job, 0.0, done=True))
            continue
        m = cache.get(shape_key(job))
        if m is None:
            out.append(Costed(job, None, note="not measured"))
        elif not m.fits:
            out.append(Costed(job, None, skip=f"does not fit {device_name}: its calibration ran out "
                                              f"of memory ({m.error})"))
        elif m.error:
            out.append(Costed(job, None, note=f"calibration failed: {m.error}"))
        else:
            done = int((previous or {}).get("steps") or 0) if held == UNFINISHED else 0
            out.append(Costed(job, slowdown * m.run_seconds(job.facts["max_steps"], job.eval_every, done),
                              peak_mb=m.peak_memory_mb))
    return out


def wall_seconds(seconds: list[float], slots: int) -> float:
    """Wall time of runs of these lengths on `slots` slots, longest first, each run taking
    the first free slot (the scheduler's order)."""
    free = [0.0] * max(1, slots)
    for s in sorted(seconds, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


def _hours(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds / 3600:.2f}" if seconds >= 36 else f"{seconds / 3600:.4f}"


def plan_table(costed: list[Costed], slots: int, per_unit: int, unit: str) -> str:
    """The plan as a table, then the totals; `per_unit` runs share one `unit` (GPU or CPU)."""
    groups: dict[tuple[str, str], list[Costed]] = defaultdict(list)
    for c in costed:
        groups[(c.job.task, c.job.row)].append(c)
    rows, skipped = [], []
    for (task, row), cs in groups.items():
        run = [c for c in cs if c.skip is None]
        if not run:
            skipped.append(f"  {task} {row}: skipped, {cs[0].skip}")
            continue
        known = [c.seconds for c in run if c.seconds is not None]
        seconds = sum(known) if len(known) == len(run) else None
        rows.append([task, row, len(run), sum(c.done for c in run),
                     sum(c.job.facts["max_steps"] for c in run),
                     f"{sum(c.job.tokens for c in run) / 1e9:.3f}", _hours(seconds)])
    run = [c for c in costed if c.skip is None]
    known = [c.seconds for c in run if c.seconds is not None]
    total = sum(known) if len(known) == len(run) else None
    rows.append(["total", "", len(run), sum(c.done for c in run),
                 sum(c.job.facts["max_steps"] for c in run),
                 f"{sum(c.job.tokens for c in run) / 1e9:.3f}", _hours(total)])
    text = tabulate(rows, headers=["task", "row", "runs", "done", "steps", "G tokens",
                                   "est. run-hours"], tablefmt="simple",
                    colalign=("left", "left", "right", "right", "right", "right", "right"))
    lines = [text]
    if total is not None:
        wall = wall_seconds([c.seconds for c in run if c.seconds], slots)
        lines.append(f"estimate: {_hours(total)} run-hours = {total / per_unit / 3600:.2f} "
                     f"{unit}-hours; on {slots} slot(s) about {clock(wall)} wall")
    else:
        unmeasured = [c for c in run if c.seconds is None]
        lines.append(f"estimate: unknown for {len(unmeasured)} run(s) ({unmeasured[0].note})")
    if skipped:
        lines.append(f"skipped at planning ({len(skipped)} rows):")
        lines.extend(skipped)
    return "\n".join(lines)


def record_cost(job: Job, estimated_s: float | None, actual_s: float, device: str, layout: str) -> None:
    """Add this attempt's time to the run's cost.json (a resumed run adds up its attempts)."""
    path = Path(job.run_dir) / COST_NAME
    before = read_json(path) or {}
    atomic.write_text(path, json.dumps({
        "estimated_s": before.get("estimated_s", estimated_s),
        "actual_s": float(before.get("actual_s") or 0.0) + actual_s,
        "device": device, "layout": layout}, indent=1) + "\n")


def actual_table(jobs: list[Job], wall_estimate: float | None, wall_actual: float) -> str:
    """Estimated against actual hours per task and row (runs with a cost.json), then the
    sweep's wall time against its estimate, as markdown."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for job in jobs:
        record = read_json(Path(job.run_dir) / COST_NAME)
        if record and record.get("estimated_s") is not None:
            groups[(job.task, job.row)].append(record)
    rows, est_all, act_all = [], 0.0, 0.0
    for (task, row), records in groups.items():
        est = sum(r["estimated_s"] for r in records)
        act = sum(r["actual_s"] for r in records)
        est_all, act_all = est_all + est, act_all + act
        rows.append([task, row, len(records), _hours(est), _hours(act), f"{act / est:.2f}" if est else "-"])
    rows.append(["total", "", sum(len(r) for r in groups.values()), _hours(est_all), _hours(act_all),
                 f"{act_all / est_all:.2f}" if est_all else "-"])
    table = tabulate(rows, headers=["task", "row", "runs", "est. hours", "actual hours", "actual / est."],
                     tablefmt="github")
    wall = (f"Sweep wall time: {clock(wall_actual)} actual"
            + (f", {clock(wall_estimate)} estimated ({wall_actual / wall_estimate:.2f}x)"
               if wall_estimate else ""))
    return f"{table}\n\n{wall}.\n"
