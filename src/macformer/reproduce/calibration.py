"""Measured cost of a run on this device: a short real run of each distinct shape.

A shape is what sets a run's speed: profile (model size, evaluation sizes), task (its data
and pairing), attention and form (causal or not), padded length and batch. Its calibration
is the real training of the shape's first job for a few steps, validated and tested once,
with a PhaseTimer, started the way the sweep starts runs (same isolation, same slots side by
side), so that its wall time holds what a run's does: start-up, data, steps with their
data loading, a validation with its checkpoints, the test. From it:

    seconds of a run = fixed + steps × step + validations × validation

Measurements are cached (calibration_cache.py) in <results>/calibration/<device>.json under the code version (a
hash of the sources and configs that can change speed) and the slot layout; a change to
either measures again. A shape whose calibration runs out of memory does not fit the device:
its runs are skipped at planning with that reason. A calibration stopped by Ctrl-C (or a
signal) measured nothing: it is not cached, and the next run measures it.

The cache is data a user may edit: every entry is checked (its keys, their types, finite
and positive numbers); a bad one is dropped, with one warning line naming the file, and
measured again. A shape whose data is not on disk yet is timed on random inputs of its
shape (data/random_inputs.py: speed does not depend on the tokens), so a plan needs no
data; its measurement says so (`inputs`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from macformer.lifecycle.record import INTERRUPTED, STOPPED

from .calibration_cache import Cache, Measurement, code_version, entry_problem, measure
from .sweep import Job

__all__ = ["Cache", "Measurement", "calibrate", "calibration_job", "code_version", "entry_problem",
           "measure", "shape_key", "shapes_to_measure"]

def shape_key(job: Job) -> str:
    f = job.facts
    form = {True: "-causal", False: "-noncausal"}.get(f.get("causal"), "")
    return f"{f['profile']}/{job.task}/{f['attention']}{form}/L{f['seq_len']}/B{f['batch_size']}"


def shapes_to_measure(jobs: list[Job], cache: Cache) -> dict[str, Job]:
    """shape → its first job, for the shapes of `jobs` the cache does not hold."""
    out: dict[str, Job] = {}
    for job in jobs:
        key = shape_key(job)
        if key not in out and cache.get(key) is None:
            out[key] = job
    return out


def data_is_there(cfg) -> bool:
    """The run of `cfg` finds its data on disk as it is (nothing to generate or fetch)."""
    from macformer.data.generate import GENERABLE, why_generate
    from macformer.data.status import data_status

    task = cfg.task.name
    if task in GENERABLE:
        sizes = cfg.generate.listops if task == "listops" else cfg.generate.pathfinder
        return why_generate(task, cfg.paths.data_dir, {k: int(v) for k, v in sizes.items()},
                            cfg.data.dataset) is None
    return dict((t, ready) for t, ready, _ in data_status(cfg.paths.data_dir))[task]


def calibration_job(job: Job, steps: int, root: Path, random_inputs: bool | None = None) -> Job:
    """`job` cut to `steps` steps with one validation at the end, in a folder of its own;
    on random inputs of its shape when `random_inputs` (None: when its data is not there)."""
    from macformer.config import compose_run, output_dir
    from macformer.data.random_inputs import TARGET, split_sizes
    from macformer.lifecycle.record import run_facts
    from macformer.lifecycle.resume import config_hash

    steps = min(steps, job.facts["max_steps"])
    run_dir = root / shape_key(job)
    overrides = (*[o for o in job.overrides if not o.startswith(("logger=", "run.force", "run.resume"))],
                 f"task.max_steps={steps}", f"task.eval_every={steps}", "task.warmup_steps=1",
                 "run.force=true", "run.resume=false", f"hydra.run.dir={run_dir}",
                 "pretrain=none",  # the fine-tuning's shape; a pretraining step costs as much (cost.py)
                 "+callbacks.phase_timer._target_=macformer.training.callbacks.phase_timer.PhaseTimer",
                 f"+callbacks.phase_timer.path={run_dir / 'phases.json'}")
    cfg = compose_run(overrides)
    if random_inputs or (random_inputs is None and not data_is_there(cfg)):
        sizes = split_sizes(cfg)  # the data's own, so that validation and test last as long
        overrides += (f"data._target_={TARGET}", f"data.limit_train={sizes['train']}",
                      f"data.limit_val={sizes['val']}", f"data.limit_eval={sizes['test']}")
        cfg = compose_run(overrides)
    return replace(job, overrides=overrides, run_dir=output_dir(cfg), config_hash=config_hash(cfg),
                   facts=run_facts(cfg), eval_every=steps)


def on_random_inputs(job: Job) -> bool:
    from macformer.data.random_inputs import TARGET

    return f"data._target_={TARGET}" in job.overrides


def _foreseen(job: Job, rate: float, fixed: float) -> float:
    """A calibration run's seconds, from a step's seconds per position and a fixed part."""
    pair = 2 if job.task == "retrieval" else 1
    return fixed + job.facts["max_steps"] * rate * job.facts["batch_size"] * job.facts["seq_len"] * pair


def calibrate(jobs: list[Job], cache: Cache, slots, isolation: str, steps: int,
              generate: bool = True) -> None:
    """Measure every shape of `jobs` the cache lacks, on `slots` as the sweep will run: first
    how long that will take (from earlier measurements, else from the smallest shape, timed
    first), then each shape; Ctrl-C raises KeyboardInterrupt, the shapes measured are cached.
    `generate`: make the data the runs will generate anyway first (a sweep); else (a plan)
    time each shape whose data is not there on random inputs."""
    from .progress import clock
    from .scheduler import run_on_slots

    shapes = shapes_to_measure(jobs, cache)
    if not shapes:
        return
    if generate:
        prepare_data(list(shapes.values()))
    todo = {key: calibration_job(job, steps, cache.folder) for key, job in shapes.items()}
    queue = sorted(todo.values(), key=lambda j: j.facts["batch_size"] * j.facts["seq_len"])
    random = sorted({j.task for j in queue if on_random_inputs(j)})
    if not generate:
        prepare_data([j for j in queue if not on_random_inputs(j)])  # tokenise only: it is there
    keys = {job.run_dir: key for key, job in todo.items()}
    print(f"reproduce: calibrating {len(todo)} shape(s) on {len(slots)} slot(s), {steps} steps each "
          f"(cached in {cache.path})" + (f"; {', '.join(random)}: on random inputs of each shape, as "
          "their data is not here yet (speed does not depend on the tokens; generating or fetching "
          "the data is not in the estimate)" if random else ""), flush=True)
    measured: list[tuple[Job, Measurement]] = []

    def ended(job: Job, summary: dict, seconds: float) -> None:
        key = keys[job.run_dir]
        if summary.get("status") in (INTERRUPTED, STOPPED):  # no measurement: the next run makes it
            print(f"  {key}: {summary.get('status')}, not cached (measured on the next run)", flush=True)
            return
        m = replace(measure(summary, seconds, job.run_dir / "phases.json"),
                    inputs="random" if on_random_inputs(job) else "data")
        cache.put(key, m)
        measured.append((job, m))
        what = (f"{m.step_s * 1000:.1f} ms/step, validation {m.validation_s:.1f} s, fixed "
                f"{m.fixed_s:.1f} s" + (" (random inputs)" if m.inputs == "random" else "")
                if m.error is None else f"{'does not fit' if not m.fits else 'failed'}: {m.error}")
        print(f"  [{len(measured)}/{len(todo)}] calibrated {key} in {clock(seconds)}: {what}", flush=True)

    prior = cache.prior()
    if prior is None and len(queue) > 1:  # nothing measured on this device yet: time the smallest
        print(f"reproduce: timing the smallest shape first, to foresee the other {len(queue) - 1}",
              flush=True)
        first = queue.pop(0)
        if run_on_slots([first], slots[:1], isolation, 1800, lambda job, slot: None, ended):
            raise KeyboardInterrupt
        m = cache.get(keys[first.run_dir])
        if m is not None and m.error is None:
            prior = m.step_s / (first.facts["batch_size"] * first.facts["seq_len"]), m.fixed_s + m.validation_s
    if prior is not None:
        seconds = sum(_foreseen(j, *prior) for j in queue) / max(1, min(len(slots), len(queue)))
        print(f"reproduce: calibrating {len(queue)} shape(s) will take about {clock(seconds)} (from "
              f"{'earlier measurements on this device' if not measured else 'the smallest shape'}; "
              "longer sequences take longer than this foresees)", flush=True)
    if run_on_slots(queue, slots, isolation, 1800, lambda job, slot: None, ended):
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
