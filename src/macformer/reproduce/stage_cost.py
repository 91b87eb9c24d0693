"""The driver's second stage: the device and its slots (runs side by side, threads each),
what each planned run will cost on it (measured by calibration runs, cached), and the
costed plan printed. `--plan` ends here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from macformer.lifecycle.record import earlier_run

from .calibration import Cache, calibrate
from .cost import Costed, cost, plan_table
from .slots import Device, Slot, detect, layout, slots
from .stage_plan import Done, Planned
from .sweep import Job


@dataclass(frozen=True)
class CostedPlan:
    device: Device
    run_slots: list[Slot]
    slot_layout: str  # e.g. "1 jobs x 2 threads", as calibrations are cached under
    runs: list[Costed]  # the planned runs that have data (those without are recorded missing)


def cost_stage(args, planned: Planned) -> CostedPlan:
    jobs, missing, isolation = planned.jobs, planned.missing, planned.isolation
    device = detect(args.gpus, use_gpu=args.launcher is None or args.launcher == "slurm")
    if device.kind == "cuda":
        isolation = "subprocess"  # a forked driver cannot hand a run its own GPU
    elif not (args.launcher or args.calibrated_on or args.threads):  # runs here: the cores free now
        from .concurrency import free_cores

        free, load = free_cores(device.cores)
        print(f"reproduce: {free} of {device.cores} cores free (1-minute load average {load:.2f}): "
              f"calibration and runs use {free} (--threads sets it)", flush=True)
        device = replace(device, cores=free)
    present = [j for j in jobs if j.task not in missing]
    # A plan costs every task, those whose data is missing too (on random inputs of their
    # shape); a sweep measures only what it will run.
    planned_jobs = jobs if args.plan else present
    try:
        per_slot, slowdown = measure_concurrency(args, device, isolation, present)
    except KeyboardInterrupt:
        print("reproduce: interrupted by Ctrl-C while measuring runs side by side; nothing of it "
              "is cached", flush=True)
        raise Done(130) from None
    run_slots = slots(device, per_slot, args.threads)
    slot_layout = layout(device, per_slot, args.threads)
    # A CPU's runs are measured as they will run, side by side; a GPU's alone (what fits
    # its memory), then slowed by the measured cost of sharing it.
    calibration_slots = slots(device, 1) if device.kind == "cuda" else run_slots
    cache = Cache(Path(args.results_dir), device.slug, layout(device, 1) if device.kind == "cuda"
                  else slot_layout)
    if args.calibrated_on:  # measured on the cluster's GPU before, one run per GPU (an array task's)
        device = replace(device, kind="cuda", name=args.calibrated_on, units=("0",))
        cache, per_slot = Cache(Path(args.results_dir), device.slug, "1 per GPU"), 1
    elif args.calibration_steps > 0:
        try:
            calibrate([j for j in planned_jobs if earlier_run(j.run_dir, j.config_hash)[0] != "done"], cache,
                      calibration_slots, isolation, args.calibration_steps, generate=not args.plan)
        except KeyboardInterrupt:
            print("reproduce: calibration interrupted by Ctrl-C; shapes measured so far are cached, "
                  "the others are measured on the next run", flush=True)
            raise Done(130) from None
    costed = cost(jobs, cache, device.name, slowdown, missing)  # missing data: named, kept apart
    unit = "GPU" if device.kind == "cuda" else "CPU"
    print(f"reproduce: the plan on {device.name} ({slot_layout}):", flush=True)
    print(plan_table(costed, len(run_slots), per_slot if device.kind == "cuda" else 1, unit), flush=True)
    if unplanned := [t for t in dict.fromkeys(t for s in planned.sweeps for t in s.tasks) if t not in
                     {j.task for j in jobs}]:  # every task of the sweep is named, planned or not
        why = "not in --tasks" if args.tasks else "no row of --rows"
        print(f"reproduce: left out of the plan ({why}): {', '.join(unplanned)}", flush=True)
    if args.plan:
        raise Done(0)
    return CostedPlan(device, run_slots, slot_layout, [c for c in costed if c.missing is None])


def measure_concurrency(args, device, isolation: str, jobs: list[Job]) -> tuple[int, float]:
    """(runs side by side per GPU or on the CPU, how much longer a GPU run then takes)."""
    from .concurrency import choose_jobs, slowdown_at

    asked = args.jobs_per_gpu if device.kind == "cuda" else args.jobs
    if args.launcher or args.calibrated_on or args.calibration_steps == 0:
        return (1 if asked == "auto" else asked), 1.0
    if asked == "auto":
        chosen, slowdown = choose_jobs(jobs, device, isolation, args.calibration_steps, args.results_dir)
    else:
        chosen, slowdown = asked, (slowdown_at(jobs, device, isolation, args.calibration_steps,
                                               args.results_dir, asked) if device.kind == "cuda" else 1.0)
    return chosen, slowdown if device.kind == "cuda" else 1.0
