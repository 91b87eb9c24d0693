"""Measured cost of a run on this device: a short real run of each distinct shape.

A shape is what sets a run's speed: profile (model size, evaluation sizes), task (its data
and pairing), attention and form (causal or not), padded length and batch. Its calibration
is the real training of the shape's first job for a few steps, validated and tested once,
with a PhaseTimer, started the way the sweep starts runs (same isolation, same slots side by
side), so that its wall time holds what a run's does: start-up, data, steps with their
data loading, a validation with its checkpoints, the test. From it:

    seconds of a run = fixed + steps × step + validations × validation

Measurements are cached in <results>/calibration/<device>.json under the code version (a
hash of the sources and configs that can change speed) and the slot layout; a change to
either measures again. A shape whose calibration runs out of memory does not fit the device:
its runs are skipped at planning with that reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from macformer import atomic
from macformer.lifecycle.record import read_json

from .sweep import Job

ROOT = Path(__file__).resolve().parents[3]
OOM_MARKERS = ("out of memory", "outofmemoryerror", "memoryerror", "killed by signal sigkill")


def shape_key(job: Job) -> str:
    f = job.facts
    form = {True: "-causal", False: "-noncausal"}.get(f.get("causal"), "")
    return f"{f['profile']}/{job.task}/{f['attention']}{form}/L{f['seq_len']}/B{f['batch_size']}"


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


def calibration_job(job: Job, steps: int, root: Path) -> Job:
    """`job` cut to `steps` steps with one validation at the end, in a folder of its own."""
    from macformer.config import compose_run, output_dir
    from macformer.lifecycle.record import run_facts
    from macformer.lifecycle.resume import config_hash

    steps = min(steps, job.facts["max_steps"])
    run_dir = root / shape_key(job)
    overrides = (*[o for o in job.overrides if not o.startswith(("logger=", "run.force", "run.resume"))],
                 f"task.max_steps={steps}", f"task.eval_every={steps}", "task.warmup_steps=1",
                 "run.force=true", "run.resume=false", f"hydra.run.dir={run_dir}",
                 "+callbacks.phase_timer._target_=macformer.reproduce.phase_timer.PhaseTimer",
                 f"+callbacks.phase_timer.path={run_dir / 'phases.json'}")
    cfg = compose_run(overrides)
    return replace(job, overrides=overrides, run_dir=output_dir(cfg), config_hash=config_hash(cfg),
                   facts=run_facts(cfg), eval_every=steps)


class Cache:
    """<results>/calibration/<device>.json: measurements by code version, layout and shape."""

    def __init__(self, results_dir: Path, device_slug: str, layout: str):
        self.path = Path(results_dir) / "calibration" / f"{device_slug}.json"
        self.prefix = f"{code_version()}|{layout}|"
        self.entries: dict = read_json(self.path) or {}

    def get(self, key: str) -> Measurement | None:
        entry = self.entries.get(self.prefix + key)
        return Measurement(**entry) if entry else None

    def put(self, key: str, measurement: Measurement) -> None:
        self.entries[self.prefix + key] = asdict(measurement)
        atomic.write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True) + "\n")

    @property
    def folder(self) -> Path:
        return self.path.with_suffix("")


def shapes_to_measure(jobs: list[Job], cache: Cache) -> dict[str, Job]:
    """shape → its first job, for the shapes of `jobs` the cache does not hold."""
    out: dict[str, Job] = {}
    for job in jobs:
        key = shape_key(job)
        if key not in out and cache.get(key) is None:
            out[key] = job
    return out


def calibrate(jobs: list[Job], cache: Cache, slots, isolation: str, steps: int) -> None:
    """Measure every shape of `jobs` the cache lacks, on `slots` as the sweep will run."""
    from .progress import clock
    from .scheduler import run_on_slots

    todo = {key: calibration_job(job, steps, cache.folder) for key, job in
            shapes_to_measure(jobs, cache).items()}
    if not todo:
        return
    prepare_data(list(todo.values()))
    keys = {job.run_dir: key for key, job in todo.items()}
    print(f"reproduce: calibrating {len(todo)} shape(s) on {len(slots)} slot(s), "
          f"{steps} steps each (cached in {cache.path})", flush=True)

    def ended(job: Job, summary: dict, seconds: float) -> None:
        m = measure(summary, seconds, job.run_dir / "phases.json")
        cache.put(keys[job.run_dir], m)
        what = (f"{m.step_s * 1000:.1f} ms/step, validation {m.validation_s:.1f} s, fixed "
                f"{m.fixed_s:.1f} s" if m.error is None else
                f"{'does not fit' if not m.fits else 'failed'}: {m.error}")
        print(f"  calibrated {keys[job.run_dir]} in {clock(seconds)}: {what}", flush=True)

    if run_on_slots(list(todo.values()), slots, isolation, 1800, lambda job, slot: None, ended):
        raise KeyboardInterrupt


def prepare_data(jobs: list[Job]) -> None:
    """Generate and tokenise each task's data once, before calibrating: a one-time cost the
    first run (here: the first calibration) would otherwise count as its own."""
    from hydra.utils import instantiate

    from macformer.config import compose_run
    from macformer.data.generate import GENERABLE, ensure_generated

    seen = set()
    for job in jobs:
        key = (job.task, job.facts["dataset"], job.facts["profile"])
        if key in seen:
            continue
        seen.add(key)
        cfg = compose_run(job.overrides)
        try:
            if job.task in GENERABLE:
                sizes = cfg.generate.listops if job.task == "listops" else cfg.generate.pathfinder
                ensure_generated(job.task, cfg.paths.data_dir, {k: int(v) for k, v in sizes.items()},
                                 int(cfg.generate.seed), cfg.data.dataset)
            instantiate(cfg.data).check_splits()
        except Exception as error:  # noqa: BLE001  (the runs report it, with the log)
            print(f"reproduce: {job.task}: preparing its data failed: {error}", flush=True)
