"""Testing aids that exercise real code paths."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class InterruptAtStep(pl.Callback):
    """Send this process a real signal (SIGINT, as Ctrl-C would, or SIGTERM, as SLURM does)
    once `step` optimiser steps are done."""

    def __init__(self, step: int, signal_name: str = "SIGINT"):
        self.step, self.signum = step, getattr(signal, signal_name)
        self._sent = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step >= self.step and not self._sent:
            self._sent = True
            os.kill(os.getpid(), self.signum)
