"""`macformer-evaluate RUN_DIR|CKPT [--data-dir D]` (or `python -m macformer.evaluation`):
re-test a completed run's best checkpoint and compare with its recorded test accuracy.
Exit 0: they agree; 1: they differ, or the test split is not the one the run tested;
2: the checkpoint's sha256 is not the recorded one, or the run cannot be re-tested. Flags: cli.py."""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import parse
from .compare import compare
from .record import CannotRetest, checked_checkpoint, read_record, run_folder_of
from .retest import retest


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet_lightning()
    target = Path(args.target)
    try:
        record = read_record(run_folder_of(target))
        checkpoint = checked_checkpoint(record, target if target.is_file() else None)
        result = retest(record, checkpoint, args.data_dir)
    except CannotRetest as error:
        print(f"macformer-evaluate: error: {error}", file=sys.stderr, flush=True)
        return 2
    agreed, lines = compare(record, result)
    for line in lines:
        print(f"evaluate: {line}", flush=True)
    return 0 if agreed else 1


def quiet_lightning() -> None:
    """Lightning's start-up lines and its hint about callbacks absent from a test-only
    Trainer say nothing about the re-test; its warnings of substance still show."""
    import logging
    import warnings

    import pytorch_lightning  # noqa: F401 - it sets its loggers' levels on import: import it first

    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*callbacks used to create the checkpoint.*")
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\).*")


if __name__ == "__main__":
    sys.exit(main())
