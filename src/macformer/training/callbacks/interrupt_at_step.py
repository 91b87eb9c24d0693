"""Testing aids that exercise real code paths."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class InterruptAtStep(pl.Callback):
    """Send this process SIGINT (as Ctrl-C would) once `step` optimiser steps are done."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step >= self.step:
            os.kill(os.getpid(), signal.SIGINT)
