"""The SLURM options of `macformer-reproduce --launcher slurm` (what a site needs to say),
and the resources an array task asks for: from the plan (its device, the threads its
calibration ran with, the measured peak memory) unless an option says otherwise."""

from __future__ import annotations

import argparse
import math
import re

GPUS = re.compile(r"^(?:(?P<type>[A-Za-z0-9_.-]+):)?(?P<count>\d+)$")  # "2", "a100:1"


def gpus_value(text: str) -> tuple[str | None, int]:
    match = GPUS.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N or TYPE:N, e.g. 1 or a100:1")
    return match["type"], int(match["count"])


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= 1")
    return int(text)


def memory_value(text: str) -> str:
    if not re.match(r"^\d+[KMGT]?$", text.upper()):
        raise argparse.ArgumentTypeError(f"{text!r}: expected sbatch's --mem form, e.g. 16G or 4000M")
    return text.upper()


def sbatch_option(text: str) -> tuple[str, str | bool]:
    key, sep, value = text.removeprefix("--").partition("=")
    if not re.match(r"^[a-z][a-z0-9-]*$", key):
        raise argparse.ArgumentTypeError(f"{text!r}: expected an sbatch option as NAME=VALUE or NAME, "
                                         "e.g. mail-type=END or exclusive")
    return key, value if sep else True


def add_slurm_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "SLURM (with --launcher slurm; each array task's resources come from the plan unless set here)")
    group.add_argument("--slurm-partition", default=None)
    group.add_argument("--slurm-account", default=None)
    group.add_argument("--slurm-qos", default=None)
    group.add_argument("--slurm-constraint", default=None, help="node features, e.g. a100|h100")
    group.add_argument("--slurm-gpus", type=gpus_value, default=None, metavar="[TYPE:]N",
                       help="GPUs per task, e.g. 1 or a100:1 (default: 1 for a GPU plan, none for a CPU plan)")
    group.add_argument("--slurm-cpus", type=positive_int, default=None, metavar="N",
                       help="CPUs per task (default: a CPU plan's calibration threads; a GPU plan's "
                            "data loader workers + 1)")
    group.add_argument("--slurm-mem", type=memory_value, default=None, metavar="SIZE",
                       help="memory per task as sbatch's --mem, e.g. 32G (default: from the measured peak)")
    group.add_argument("--slurm-time-cap", type=positive_int, default=None, metavar="MINUTES",
                       help="no task asks for more time than this (e.g. the partition's limit)")
    group.add_argument("--slurm-setup", action="append", default=[], metavar="LINE",
                       help="a shell line run before Python in each job, repeatable, e.g. "
                            "'module load cuda/12.4' --slurm-setup 'conda activate lra'")
    group.add_argument("--slurm-option", action="append", type=sbatch_option, default=[], metavar="NAME=VALUE",
                       help="any other sbatch option, repeatable, e.g. mail-type=END or exclusive")
    group.add_argument("--wait", action="store_true",
                       help="wait for the submitted jobs, showing their runs' progress, then write "
                            "the report (unless --no-report)")


def cpu_memory_mb(peak_mb: float) -> int:
    """A CPU task's --mem from its runs' measured peak resident memory: 1.5x, plus 512 MB for
    what the measurement does not see (the driver process, the data loader's pages)."""
    return math.ceil(peak_mb * 1.5 + 512)


def gpu_host_memory_gb(peak_gpu_mb: float) -> int:
    """A GPU task's host memory (not measured: the calibration measures GPU memory): the
    GPU peak × 1.5 + 8 GB for the process and the data, at least 16 GB."""
    return max(16, math.ceil(peak_gpu_mb * 1.5 / 1024) + 8)


def slurm_parameters(args, on_gpu: bool, cpus: int, peak_mb: float | None, limit_min: int,
                     devices: int = 1) -> dict:
    """submitit's parameters (AutoExecutor's slurm_* names) for one array.

    on_gpu: the plan's device; cpus: the CPUs a run needs (the calibration's threads, or a
    GPU run's loader workers + 1); peak_mb: the measured peak of the array's runs (None: not
    measured, the site's default memory); devices: trainer.devices of its runs (DDP: one
    task per device)."""
    gpu_type, gpus = args.slurm_gpus or (None, 1 if on_gpu else 0)
    minutes = min(limit_min, args.slurm_time_cap or limit_min)
    params: dict = {"timeout_min": minutes,
                    "slurm_partition": args.slurm_partition, "slurm_account": args.slurm_account,
                    "slurm_qos": args.slurm_qos, "slurm_constraint": args.slurm_constraint,
                    "cpus_per_task": args.slurm_cpus or cpus, "tasks_per_node": devices,
                    # SLURM's warning (USR2) 2 minutes before the limit, or a quarter of a short limit before it.
                    "slurm_signal_delay_s": min(120, minutes * 15), "slurm_array_parallelism": 256}
    if gpus and gpu_type:
        params["slurm_gres"] = f"gpu:{gpu_type}:{gpus * devices}"
    elif gpus:
        params["gpus_per_node"] = gpus * devices
    if args.slurm_mem:
        params["slurm_mem"] = args.slurm_mem
    elif peak_mb and not on_gpu:
        params["slurm_mem"] = f"{cpu_memory_mb(peak_mb) * devices}M"
    elif peak_mb:
        params["mem_gb"] = gpu_host_memory_gb(peak_mb) * devices
    if args.slurm_setup:
        params["slurm_setup"] = list(args.slurm_setup)
    if args.slurm_option:
        params["slurm_additional_parameters"] = dict(args.slurm_option)
    return {k: v for k, v in params.items() if v is not None}
