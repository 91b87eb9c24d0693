"""The command line of `macformer-reproduce` (`python -m macformer.reproduce`).

Every bad value is one line and exit 2 (OneLineParser), before anything is composed or run.
Hydra overrides may stand anywhere: `--seeds 0 task.max_steps=600` and `task.max_steps=600
--seeds 0` are the same command (overrides_anywhere).
"""

from __future__ import annotations

import argparse
import functools
import math
import re
import sys

from macformer.cli_arguments import OneLineParser

from .groups import GROUPS, group_sizes
from .slurm_options import add_slurm_arguments
from .sweep import PROFILES, row

NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse reads these as values, not options


@functools.cache  # read once per process: conf/sweep/*.yaml
def _groups_help() -> str:
    lines = ["sweep groups (conf/sweep/<name>.yaml; runs = rows x tasks x the profile's seeds):"]
    for name, rows, tasks, about in group_sizes(row):
        lines.append(f"  {name:<10} {rows:>2} rows x {tasks} task(s) = {rows * tasks:>3} runs per seed: {about}")
    lines.append("profiles: " + "; ".join(
        f"{p.name}: sweep {','.join(p.groups)}, seeds {','.join(map(str, p.seeds))}" for p in PROFILES.values()))
    return "\n".join(lines)


def _integer(text: str, low: int, allowed: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; {allowed}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{value}: {allowed}")
    return value


def _number(text: str, positive: bool) -> float:
    allowed = "must be a number above 0" if positive else "must be a number >= 0"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; {allowed}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise argparse.ArgumentTypeError(f"{text}: {allowed}")
    return value


def jobs_value(text: str) -> int | str:
    return text if text == "auto" else _integer(text, 1, "must be an integer >= 1, or auto")


def positive_int(text: str) -> int:
    return _integer(text, 1, "must be an integer >= 1")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "must be an integer >= 0")


def positive_number(text: str) -> float:
    return _number(text, positive=True)


def non_negative_number(text: str) -> float:
    return _number(text, positive=False)


def sweep_groups(text: str) -> tuple[str, ...]:
    names = tuple(text.split(","))
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown sweep group {', '.join(map(repr, unknown))}; "
                                         f"choose from {', '.join(GROUPS)} (conf/sweep/<name>.yaml)")
    return names


def gpus_value(text: str) -> str:
    """all, none, or a comma-separated list of CUDA_VISIBLE_DEVICES entries (checked against
    the visible GPUs before anything runs)."""
    if text in ("all", "none") or all(g.strip() and not g.strip().startswith("-") for g in text.split(",")):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: must be all, none, or GPU ids such as 0,1")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="macformer-reproduce", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plan and cost the LRA sweep of a profile on this device, run it (resuming, "
                    "several runs at once), then write the report. Hydra overrides may stand "
                    "anywhere on the command line.",
        epilog=_groups_help())
    parser.add_argument("--profile", default="auto", choices=("auto", *PROFILES),
                        help="auto (default): paper when a CUDA GPU is visible, else cpu")
    parser.add_argument("--sweep", default=None, type=sweep_groups, metavar="GROUP[,GROUP...]",
                        help="sweep groups to run, e.g. core,ablations,pathx (default: the profile's)")
    parser.add_argument("--tasks", nargs="+", default=None, help="only these tasks (of the sweep's)")
    parser.add_argument("--rows", nargs="+", default=None,
                        help="only these rows, e.g. softmax rmfa-exp-causal rmfa-exp-noppsbn-causal")
    parser.add_argument("--seeds", nargs="+", type=non_negative_int, default=None,
                        help="seeds (default: the profile's)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results-dir", default="results",
                        help="runs go to RESULTS/runs/<profile>/..., tables and plots to RESULTS/<profile> "
                             "(RESULTS/partial/<profile> for a sweep that did not complete every run of "
                             "the profile, when RESULTS/<profile> holds a report), calibrations to "
                             "RESULTS/calibration")
    parser.add_argument("--force", action="store_true",
                        help="replace earlier runs of other settings in the sweep's run folders (their "
                             "results are deleted); without it the driver refuses to start")
    parser.add_argument("--plan", action="store_true",
                        help="calibrate what is not measured yet, print the costed plan and exit")
    parser.add_argument("--calibration-steps", type=non_negative_int, default=30, metavar="N",
                        help="training steps of each shape's calibration run (default: 30; 0: "
                             "measure nothing, the plan then shows no hours)")
    parser.add_argument("--gpus", type=gpus_value, default="all",
                        help="GPUs to use: all (default), none, or e.g. 0,1")
    parser.add_argument("--jobs-per-gpu", type=jobs_value, default="auto",
                        help="runs side by side on each GPU (default auto: measured memory and "
                             "throughput gain)")
    parser.add_argument("--jobs", type=jobs_value, default=1,
                        help="on a CPU: runs side by side, sharing the cores (default: 1; at most the "
                             "number of cores)")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="on a CPU: threads per run (default: cores / jobs)")
    parser.add_argument("--launcher", choices=("slurm", "local", "submitit_local"), default=None,
                        help="submit the plan through submitit as a job array instead of running it "
                             "here (local = submitit's local executor)")
    parser.add_argument("--calibrated-on", default=None, metavar="DEVICE",
                        help="with --launcher slurm from a node without the cluster's GPU: cost the "
                             "plan from the measurements cached for DEVICE (e.g. nvidia-h200, as named "
                             "in RESULTS/calibration/) instead of measuring here")
    add_slurm_arguments(parser)
    parser.add_argument("--pack-minutes", type=non_negative_number, default=60.0,
                        help="with --launcher: runs shorter than this share one array task, up to "
                             "this long in all (default: 60; 0: each run alone)")
    parser.add_argument("--isolation", choices=("fork", "subprocess"), default=None,
                        help="how each run is started (default: the profile's; subprocess on GPUs)")
    parser.add_argument("--run-timeout", type=positive_number, default=None, metavar="SECONDS",
                        help="seconds before a run is stopped and reported failed (above 0)")
    parser.add_argument("--progress-every", type=non_negative_number, default=60.0, metavar="SECONDS",
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
    parser.add_argument("--verify", default=None, metavar="REPORT_DIR",
                        help="re-run one committed cell of REPORT_DIR (e.g. results/cpu) from its recorded "
                             "command line in a temporary folder, compare steps and accuracy with its "
                             "committed summary, and exit (0: agrees, 1: does not)")
    parser.add_argument("--cell", default=None, metavar="TASK/ROW/seedK",
                        help="with --verify: the cell, e.g. listops/softmax/seed0 (default: the cheapest)")
    parser.add_argument("--verify-dir", default=None, metavar="DIR",
                        help="with --verify: re-run in DIR and keep it (default: a temporary folder, "
                             "removed when the cell agrees)")
    parser.add_argument("overrides", nargs="*",
                        help="extra Hydra overrides for every run, e.g. logger=wandb trainer=gpu "
                             "(anywhere on the command line)")
    return parser


def overrides_anywhere(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`argv` with its Hydra overrides moved after a `--`, so that an option taking several
    values (--seeds, --rows, --tasks) never swallows the override that follows it.

    A word is an override when it is no option's value; the values of an option that takes
    several end at the first word that looks like an override (key=value, +key=..., ~key)."""
    options = {s: a for a in parser._actions for s in a.option_strings}
    kept, overrides = [], []
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            overrides += argv[i:]
            break
        if not word.startswith("-") or NEGATIVE_NUMBER.match(word):
            overrides.append(word)  # no option's value: a positional, i.e. an override
            continue
        kept.append(word)
        action = _option(options, word)
        if action is None or "=" in word:
            continue
        many = action.nargs in ("+", "*")
        count = {None: 1, "?": 1}.get(action.nargs, action.nargs) if not many else len(argv)
        while count and i < len(argv) and (not argv[i].startswith("-") or NEGATIVE_NUMBER.match(argv[i])):
            if many and _looks_like_override(argv[i]):
                break
            kept.append(argv[i])
            i, count = i + 1, count - 1
    return kept + (["--", *overrides] if overrides else [])


def _option(options: dict, word: str):
    """The option `word` names, an unambiguous prefix included (as argparse allows)."""
    name = word.split("=", 1)[0]
    if name in options:
        return options[name]
    matches = {a for s, a in options.items() if s.startswith("--") and s.startswith(name)}
    return matches.pop() if len(matches) == 1 else None


def _looks_like_override(word: str) -> bool:
    return "=" in word or word.startswith(("+", "~"))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(overrides_anywhere(parser, list(sys.argv[1:] if argv is None else argv)))
    if args.verify is None and (args.cell or args.verify_dir):
        parser.error(f"{'--cell' if args.cell else '--verify-dir'} goes with --verify REPORT_DIR")
    if args.verify is not None and args.overrides:
        parser.error("--verify re-runs a cell from its recorded command line: it takes no overrides "
                     f"(got {' '.join(args.overrides)})")
    return args
