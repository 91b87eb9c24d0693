"""The command line of `macformer-reproduce` (`python -m macformer.reproduce`)."""

from __future__ import annotations

import argparse

from .groups import group_sizes
from .slurm_options import add_slurm_arguments
from .sweep import PROFILES, row


def _groups_help() -> str:
    lines = ["sweep groups (conf/sweep/<name>.yaml; runs = rows x tasks x the profile's seeds):"]
    for name, rows, tasks, about in group_sizes(row):
        lines.append(f"  {name:<10} {rows:>2} rows x {tasks} task(s) = {rows * tasks:>3} runs per seed: {about}")
    lines.append("profiles: " + "; ".join(
        f"{p.name}: sweep {','.join(p.groups)}, seeds {','.join(map(str, p.seeds))}" for p in PROFILES.values()))
    return "\n".join(lines)


def jobs_value(text: str) -> int | str:
    if text == "auto":
        return text
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1 or auto")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="macformer-reproduce", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plan and cost the LRA sweep of a profile on this device, run it (resuming, "
                    "several runs at once), then write the report.",
        epilog=_groups_help())
    parser.add_argument("--profile", default="auto", choices=("auto", *PROFILES),
                        help="auto (default): paper when a CUDA GPU is visible, else cpu")
    parser.add_argument("--sweep", default=None, metavar="GROUP[,GROUP...]",
                        help="sweep groups to run, e.g. core,ablations,pathx (default: the profile's)")
    parser.add_argument("--tasks", nargs="+", default=None, help="only these tasks")
    parser.add_argument("--rows", nargs="+", default=None,
                        help="only these rows, e.g. softmax rmfa-exp-causal rmfa-exp-noppsbn-causal")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="seeds (default: the profile's)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results-dir", default="results",
                        help="runs go to RESULTS/runs/<profile>/..., tables and plots to RESULTS/<profile>, "
                             "calibrations to RESULTS/calibration")
    parser.add_argument("--plan", action="store_true",
                        help="calibrate what is not measured yet, print the costed plan and exit")
    parser.add_argument("--calibration-steps", type=int, default=30, metavar="N",
                        help="training steps of each shape's calibration run (default: 30; 0: "
                             "measure nothing, the plan then shows no hours)")
    parser.add_argument("--gpus", default="all", help="GPUs to use: all (default), none, or e.g. 0,1")
    parser.add_argument("--jobs-per-gpu", type=jobs_value, default="auto",
                        help="runs side by side on each GPU (default auto: measured memory and "
                             "throughput gain)")
    parser.add_argument("--jobs", type=jobs_value, default=1,
                        help="on a CPU: runs side by side, sharing the cores (default: 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="on a CPU: threads per run (default: cores / jobs)")
    parser.add_argument("--launcher", choices=("slurm", "local", "submitit_local"), default=None,
                        help="submit the plan through submitit as a job array instead of running it "
                             "here (local = submitit's local executor)")
    parser.add_argument("--calibrated-on", default=None, metavar="DEVICE",
                        help="with --launcher slurm from a node without the cluster's GPU: cost the "
                             "plan from the measurements cached for DEVICE (e.g. nvidia-h200, as named "
                             "in RESULTS/calibration/) instead of measuring here")
    add_slurm_arguments(parser)
    parser.add_argument("--pack-minutes", type=float, default=60.0,
                        help="with --launcher: runs shorter than this share one array task, up to "
                             "this long in all (default: 60)")
    parser.add_argument("--isolation", choices=("fork", "subprocess"), default=None,
                        help="how each run is started (default: the profile's; subprocess on GPUs)")
    parser.add_argument("--run-timeout", type=float, default=None,
                        help="seconds before a run is stopped and reported failed")
    parser.add_argument("--progress-every", type=float, default=60.0, metavar="SECONDS",
                        help="show a training run's step and ETA this often (0: never; default: 60)")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the jobs and their commands, measure nothing, and exit")
    parser.add_argument("--no-report", action="store_true", help="skip the report at the end")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a run failed")
    parser.add_argument("--print-profile", action="store_true",
                        help="print the profile `auto` resolves to and exit (used by make)")
    parser.add_argument("--print-data-vars", action="store_true",
                        help="print the `make data` variables that generate ListOps and "
                             "Pathfinder at the resolved profile's sizes, and exit (used by make)")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every run, e.g. logger=wandb trainer=gpu")
    return parser.parse_args(argv)
