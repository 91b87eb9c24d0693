"""`<run dir>/progress.json`: where a training run is, for whoever watches it from outside.

The reproduce driver runs each job in its own process with output to a log file; this
small file lets it show the run's step and the time the run has left in its own output
(reproduce/progress.py). Written atomically by the process of rank 0, at the first
step, then at most every `every_s` seconds, and when training ends. The rate counts
this attempt only (validation included, as the time left must). A self-pretrained run's
pretraining writes the same file with `stage: "pretraining"` (its steps, its time left).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytorch_lightning as pl

from macformer import atomic

PROGRESS_NAME = "progress.json"


class ProgressFile(pl.Callback):
    def __init__(self, path: str | Path, every_s: float = 10.0, stage: str | None = None):
        self.path, self.every_s, self.stage = Path(path), every_s, stage
        self._start = self._start_step = self._written = None

    def on_train_start(self, trainer, pl_module):
        self._start, self._start_step, self._written = time.monotonic(), trainer.global_step, None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._written is None or time.monotonic() - self._written >= self.every_s:
            self._write(trainer)

    def on_train_end(self, trainer, pl_module):
        self._write(trainer)

    def _write(self, trainer) -> None:
        if not trainer.is_global_zero or self._start is None:
            return
        now = time.monotonic()
        step, max_steps = int(trainer.global_step), int(trainer.max_steps)
        done = step - self._start_step
        rate = done / (now - self._start) if done > 0 and now > self._start else None
        eta = (max_steps - step) / rate if rate and max_steps > 0 else None
        state = {"step": step, "max_steps": max_steps, "steps_per_second": rate, "eta_seconds": eta,
                 "attempt_seconds": now - self._start, "time": time.time()}
        if self.stage is not None:
            state["stage"] = self.stage
        atomic.write_text(self.path, json.dumps(state) + "\n")
        self._written = now
