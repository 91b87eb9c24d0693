"""A Lightning callback for the reproduce driver's calibration runs (reproduce/calibration.py
adds it as `+callbacks.phase_timer`): when each training batch starts, when each validation
starts, when training ends, written to a JSON file at the end of fit.

The intervals between batch starts include data loading, which the throughput monitor
leaves out; a sweep's wall time includes it, so the estimate is built on these.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytorch_lightning as pl


class PhaseTimer(pl.Callback):
    def __init__(self, path: str):
        self.path = Path(path)
        self.batch_starts: list[float] = []
        self.validation_starts: list[float] = []
        self.fit_start = self.train_end = None

    def on_fit_start(self, trainer, pl_module):
        self.fit_start = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.batch_starts.append(time.perf_counter())

    def on_validation_start(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.validation_starts.append(time.perf_counter())

    def on_train_end(self, trainer, pl_module):
        self.train_end = time.perf_counter()

    def on_fit_end(self, trainer, pl_module):
        origin = self.fit_start or 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({
            "batch_starts": [t - origin for t in self.batch_starts],
            "validation_starts": [t - origin for t in self.validation_starts],
            "train_end": (self.train_end or time.perf_counter()) - origin,
        }))
