"""The costed plan: per task and row, runs, steps, tokens and the estimated hours on this
device (from calibration.py's measurements), the wall time on the slots, and after a sweep
the estimate beside the time it took (each run's `cost.json`).
"""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from dataclasses import dataclass, replace
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
    missing: str | None = None  # its data is not there and is not generated: how to get it


def cost(jobs: list[Job], cache: Cache, device_name: str, slowdown: float = 1.0,
         missing: dict[str, str] | None = None) -> list[Costed]:
    """Each job's estimated seconds; `slowdown`: how much longer a run takes beside others on
    its GPU than alone (measured; 1 where the measurement was made side by side); `missing`:
    task → how to get its data, for tasks the sweep cannot run yet (costed, kept apart)."""
    return [replace(c, missing=(missing or {}).get(c.job.task))
            for c in _cost(jobs, cache, device_name, slowdown)]


def _cost(jobs: list[Job], cache: Cache, device_name: str, slowdown: float) -> list[Costed]:
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
            seconds = slowdown * m.run_seconds(job.facts["max_steps"], job.eval_every, done)
            if job.pretrain_steps and not done:  # self-pretraining first: steps of the same shape
                # (its token head is one dim × vocabulary projection), in the same process
                seconds += slowdown * (m.run_seconds(job.pretrain_steps, job.pretrain_eval_every) - m.fixed_s)
            if math.isfinite(seconds) and seconds >= 0:
                out.append(Costed(job, seconds, peak_mb=m.peak_memory_mb))
            else:  # never a negative or NaN estimate
                out.append(Costed(job, None, note=f"its measurement gives no time ({seconds})"))
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
    """The plan as a table, then the totals; `per_unit` runs share one `unit` (GPU or CPU).
    The runs of a task whose data is missing are listed (marked *) but not in the totals;
    every task left out of them is named below with why."""
    groups: dict[tuple[str, str], list[Costed]] = defaultdict(list)
    for c in costed:
        groups[(c.job.task, c.job.row)].append(c)
    rows, skipped = [], []
    for (task, row), cs in groups.items():
        run = [c for c in cs if c.skip is None]
        if not run:
            skipped.append(f"  {task} {row}: skipped, {cs[0].skip}")
            continue
        rows.append([task + (" *" if run[0].missing else ""), row, *_sums(run)])
    run = [c for c in costed if c.skip is None and c.missing is None]
    total = _sums(run)[-1]
    rows.append(["total", "", *_sums(run)])
    text = tabulate(rows, headers=["task", "row", "runs", "done", "steps", "G tokens",
                                   "est. run-hours"], tablefmt="simple",
                    colalign=("left", "left", "right", "right", "right", "right", "right"))
    lines = [text]
    if not run:
        lines.append("estimate: no run can start with the data here")
    elif total != "?":
        seconds = sum(c.seconds for c in run)
        wall = wall_seconds([c.seconds for c in run if c.seconds], slots)
        lines.append(f"estimate: {total} run-hours = {seconds / per_unit / 3600:.2f} "
                     f"{unit}-hours; on {slots} slot(s) about {clock(wall)} wall")
    else:
        unmeasured = [c for c in run if c.seconds is None]
        lines.append(f"estimate: unknown for {len(unmeasured)} run(s) ({unmeasured[0].note})")
    lines.extend(_left_out(costed))
    if skipped:
        lines.append(f"skipped at planning ({len(skipped)} rows):")
        lines.extend(skipped)
    return "\n".join(lines)


def _sums(run: list[Costed]) -> list:
    """runs, done, steps, G tokens and run-hours ("?" unless every run is costed) of `run`."""
    known = [c.seconds for c in run if c.seconds is not None]
    return [len(run), sum(c.done for c in run), sum(c.job.facts["max_steps"] for c in run),
            f"{sum(c.job.tokens for c in run) / 1e9:.3f}",
            _hours(sum(known) if len(known) == len(run) else None)]


def _left_out(costed: list[Costed]) -> list[str]:
    """One line per task whose data is missing: its runs, their hours once it is there, and
    how to get it."""
    tasks: dict[str, list[Costed]] = defaultdict(list)
    for c in costed:
        if c.missing is not None and c.skip is None:
            tasks[c.job.task].append(c)
    if not tasks:
        return []
    lines = [f"* left out of the estimate, data missing ({len(tasks)} task(s); the sweep records "
             "their runs `missing` until it is there):"]
    for task, cs in tasks.items():
        hours = _sums(cs)[-1]
        when = f"{hours} run-hours once it is there" if hours != "?" else "not measured"
        lines.append(f"  {task}: {len(cs)} run(s), {when}; {cs[0].missing}")
    return lines


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
