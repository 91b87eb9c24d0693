"""The command line of `macformer-data` (`python -m macformer.data.prepare`): its flags,
parsed by OneLineParser (a bad value is one line and exit 2)."""

from __future__ import annotations

import argparse

from macformer.cli_arguments import POSITIVE, SEED, OneLineParser

from .tasks import TASKS
from .variants import VARIANTS


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="macformer-data",
        description="`make data`: prepare every LRA task that can be prepared here, then print a table.")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--only", nargs="+", choices=TASKS, help="tasks to prepare (default: all)")
    parser.add_argument("--listops-train", type=POSITIVE, default=96000)
    parser.add_argument("--listops-val", type=POSITIVE, default=2000)
    parser.add_argument("--listops-test", type=POSITIVE, default=2000)
    parser.add_argument("--pathfinder-count", type=POSITIVE, default=200000)
    parser.add_argument("--seed", type=SEED, default=0, help="seed of the generated sets")
    parser.add_argument("--workers", type=POSITIVE, default=None)
    parser.add_argument("--force", action="store_true", help="regenerate generated sets (never a release)")
    parser.add_argument("--offline", action="store_true", help="no hub, no archive download")
    parser.add_argument("--datasets", nargs="+", choices=sorted(VARIANTS), default=None,
                        help="reduced generated sets to prepare instead of their task's LRA-format "
                             "set (the cpu profile trains on these), at the --listops-* / "
                             "--pathfinder-count sizes")
    parser.add_argument("--no-lra-download", action="store_true",
                        help="do not download the 7.7 GB LRA archive (Retrieval, Path-X stay missing)")
    parser.add_argument("--no-process", action="store_true", help="do not build the processed caches")
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
