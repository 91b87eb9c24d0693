"""The command line of `macformer-evaluate` (`python -m macformer.evaluation`): its flags,
parsed by OneLineParser (a bad value is one line and exit 2)."""

from __future__ import annotations

import argparse

from macformer.cli_arguments import OneLineParser


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="macformer-evaluate",
        description="Re-test a completed run's best checkpoint on its task's test split with the "
                    "run's recorded settings, and print the accuracy beside the recorded one. Exit "
                    "0 when they agree (exactly on the run's own CPU environment, else within the "
                    "tolerance printed), 1 when they differ or the test split changed, 2 when the "
                    "checkpoint is not the recorded one or the run cannot be re-tested.")
    parser.add_argument("target", metavar="RUN_DIR|CKPT",
                        help="a run folder (holding summary.json), or a checkpoint inside one")
    parser.add_argument("--data-dir", default=None,
                        help="data folder (default: the run's own, from its overrides.yaml)")
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
