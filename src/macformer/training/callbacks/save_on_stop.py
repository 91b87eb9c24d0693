"""last.ckpt at the very step a run stopped early (see training/stop_reason.py)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities.exceptions import SIGTERMException

from macformer.lifecycle.outcome import MAX_TIME, SHOULD_STOP
from macformer.training.stop_reason import stop_reason


class SaveOnStop(pl.Callback):
    """Save `path` (last.ckpt) when training stops early without an error, or on SIGTERM (SLURM's
    warning before it kills a job), so that a re-run continues from that step rather than from
    the last validation. Lightning acts on SIGTERM between batches, so the state is whole; a
    Ctrl-C can land anywhere, so it keeps the last validation's checkpoint."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_train_end(self, trainer, pl_module):
        if stop_reason(trainer) in (MAX_TIME, SHOULD_STOP):
            trainer.save_checkpoint(self.path)

    def on_exception(self, trainer, pl_module, exception):
        if isinstance(exception, SIGTERMException) and trainer.training and trainer.global_step > 0:
            trainer.save_checkpoint(self.path)
