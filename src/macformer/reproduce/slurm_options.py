"""The SLURM options of `macformer-reproduce --launcher slurm` (what a site needs to say)."""

from __future__ import annotations

import argparse


def add_slurm_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SLURM (with --launcher slurm)")
    group.add_argument("--slurm-partition", default=None)
    group.add_argument("--slurm-account", default=None)
