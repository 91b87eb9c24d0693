"""`--jobs-per-gpu auto` (and `--jobs auto` on a CPU): how many runs to put side by side on
one device, measured. The shape that costs the sweep most is run as 1, 2, 4, ... copies at
once on one GPU (or the CPU); more copies are kept while the aggregate steps per second grow
by at least MIN_GAIN and the measured peak memory of that many copies fits the device.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from .calibration import Cache, Measurement, calibration_job, measure, shape_key
from .scheduler import run_on_slots
from .slots import Device, Slot
from .sweep import Job

MIN_GAIN = 1.10  # doubling the copies must add at least 10% aggregate throughput
MAX_COPIES = 16


def free_cores(cores: int) -> tuple[int, float]:
    """(cores not busy with other work, the 1-minute load average): what a CPU run can use."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return cores, 0.0
    return max(1, min(cores, round(cores - load))), load


def probe(job: Job, copies: int, device: Device, isolation: str, steps: int, cache: Cache) -> Measurement:
    """The mean Measurement of `copies` calibration runs of `job` at once on one GPU / the CPU."""
    key = f"probe/{shape_key(job)}/x{copies}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    base = calibration_job(job, steps, cache.folder)
    runs = [in_folder(base, base.run_dir / f"copy{i}") for i in range(copies)]
    threads = str(max(1, device.cores // copies))
    env = ({"CUDA_VISIBLE_DEVICES": device.units[0]} if device.kind == "cuda"
           else {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
    measured: list[Measurement] = []
    if run_on_slots(runs, [Slot(f"probe/{i}", env) for i in range(copies)], isolation, 1800,
                    lambda job, slot: None,
                    lambda job, summary, seconds: measured.append(measure(summary, seconds,
                                                                          job.run_dir / "phases.json"))):
        raise KeyboardInterrupt  # Ctrl-C: measured nothing, cached nothing (the next run probes)
    ok = [m for m in measured if m.error is None]
    if len(ok) < copies:
        bad = next(m for m in measured if m.error is not None)
        result = bad
    else:
        mean = sum(m.step_s for m in ok) / copies
        peak = max((m.peak_memory_mb or 0.0) for m in ok)
        result = replace(ok[0], step_s=mean, peak_memory_mb=peak)
    cache.put(key, result)
    return result


def in_folder(job: Job, run_dir: Path) -> Job:
    """A calibration `job` run in `run_dir` instead (the copies of a probe)."""
    moved = {"hydra.run.dir=": f"hydra.run.dir={run_dir}",
             "+callbacks.phase_timer.path=": f"+callbacks.phase_timer.path={run_dir / 'phases.json'}"}
    overrides = tuple(next((new for old, new in moved.items() if o.startswith(old)), o)
                      for o in job.overrides)
    return replace(job, overrides=overrides, run_dir=run_dir)


def heaviest(jobs: list[Job]) -> Job:
    """The first job of the shape with the most tokens in `jobs`: the sweep's main cost."""
    tokens: dict[str, float] = defaultdict(float)
    first: dict[str, Job] = {}
    for job in jobs:
        tokens[shape_key(job)] += job.tokens
        first.setdefault(shape_key(job), job)
    return first[max(tokens, key=tokens.get)]


def slowdown_at(jobs: list[Job], device: Device, isolation: str, steps: int, results_dir,
                copies: int) -> float:
    """How much longer a run takes with `copies` side by side than alone (measured)."""
    if copies == 1 or not jobs:
        return 1.0
    job, cache = heaviest(jobs), Cache(Path(results_dir), device.slug, "probe")
    one, many = (probe(job, n, device, isolation, steps, cache) for n in (1, copies))
    if one.error or many.error:
        return 1.0
    return many.step_s / one.step_s


def choose_jobs(jobs: list[Job], device: Device, isolation: str, steps: int,
                results_dir) -> tuple[int, float]:
    """Runs side by side per GPU (or on the CPU), from measured throughput and memory, and
    how much longer each run then takes than alone."""
    if not jobs:
        return 1, 1.0
    top = heaviest(jobs)
    cache = Cache(Path(results_dir), device.slug, "probe")
    limit = MAX_COPIES if device.kind == "cuda" else device.cores
    one = probe(top, 1, device, isolation, steps, cache)
    if one.error is not None:
        print(f"reproduce: jobs per {device.kind}: 1 (the probe of {shape_key(top)} failed: "
              f"{one.error})", flush=True)
        return 1, 1.0
    chosen, rate, step = 1, 1.0 / one.step_s, one.step_s
    why = f"it tries at most {limit} ({'per GPU' if device.kind == 'cuda' else 'the cores'})"
    copies = 2
    while copies <= limit:
        if one.peak_memory_mb and copies * one.peak_memory_mb > 0.9 * device.memory_mb:
            why = f"{copies} copies would need {copies * one.peak_memory_mb:.0f} MiB"
            break
        m = probe(top, copies, device, isolation, steps, cache)
        if m.error is not None:
            why = f"{copies} copies failed: {m.error}"
            break
        new_rate = copies / m.step_s
        if new_rate < MIN_GAIN * rate:
            why = f"{copies} copies gave {new_rate / rate:.2f}x the throughput of {chosen}"
            break
        chosen, rate, step = copies, new_rate, m.step_s
        copies *= 2
    print(f"reproduce: {chosen} run(s) side by side per {'GPU' if device.kind == 'cuda' else 'CPU'}: "
          f"{chosen} gave {rate * one.step_s:.2f}x the steps/s of one ({shape_key(top)}); {why}",
          flush=True)
    return chosen, step / one.step_s
