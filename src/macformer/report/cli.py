"""The command line of `macformer-report` (`python -m macformer.report`): its flags, parsed
by OneLineParser (a bad value is one line and exit 2)."""

from __future__ import annotations

import argparse

from macformer.cli_arguments import OneLineParser


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="macformer-report",
        description="Aggregate every run's summary.json into accuracy, efficiency and "
                    "published-comparison tables (Markdown + CSV) and plots (PNG), one "
                    "folder per profile: <out>/<profile>/, with the run records it is built "
                    "from copied to <out>/<profile>/runs/ (--runs <out>/<profile>/runs "
                    "rebuilds it byte for byte).")
    parser.add_argument("--runs", default="results/runs",
                        help="folder searched recursively for summary.json (default: %(default)s)")
    parser.add_argument("--out", default="results",
                        help="folder holding one report folder per profile (default: %(default)s)")
    parser.add_argument("--format", choices=("markdown", "latex"), default="markdown",
                        help="`latex` also writes accuracy.tex, efficiency.tex, published.tex "
                             "(Markdown and CSV are always written)")
    parser.add_argument("--profile", default=None,
                        help="only this profile's folder (smoke, cpu, paper); default: every "
                             "profile that has runs")
    parser.add_argument("--wandb", action="store_true",
                        help="also log each profile's tables, plots and learning curves as one W&B "
                             "run in the sweep's group (WANDB_MODE=offline writes it under "
                             "<out>/<profile>/wandb/ for `wandb sync`)")
    parser.add_argument("--wandb-project", default="macformer-lra", help="default: %(default)s")
    parser.add_argument("--wandb-group", default=None,
                        help="W&B group of the report run; default: the runs' sweep id "
                             "(run.sweep_id), else report-<profile>")
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
