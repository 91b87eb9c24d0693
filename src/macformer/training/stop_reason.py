"""Why `trainer.fit` returned, read from Lightning's trainer. What that makes of the run
(completed or stopped, and its message) is lifecycle/outcome.py's `describe_end`.

`trainer.max_time` (e.g. a SLURM allocation) stops a run cleanly: the run is recorded
`stopped` (not completed), last.ckpt is saved at that very step, and re-running the same
command continues it. The time limit applies to each attempt: Lightning's own Timer
carries the elapsed time over in the checkpoint, so a resumed run would stop at once.
A protocol's own early stopping (an EarlyStopping callback) is a deliberate end: the run
is completed, with stop_reason `early_stopping`.
"""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, Timer

from macformer.lifecycle.outcome import EARLY_STOPPING, MAX_STEPS, MAX_TIME, SHOULD_STOP


def stop_reason(trainer: pl.Trainer, steps: int = 0) -> str:
    """Why `trainer.fit` returned: max_steps, early_stopping, max_time or should_stop (anything else).
    `steps`: the steps the run reports having done (under ddp_spawn the workers trained,
    and this process's trainer.global_step stays 0)."""
    if trainer.max_steps is not None and 0 < trainer.max_steps <= max(trainer.global_step, steps):
        return MAX_STEPS
    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping) and callback.stopping_reason_message:
            return EARLY_STOPPING
        if isinstance(callback, Timer):
            remaining = callback.time_remaining()
            if remaining is not None and remaining <= 0:
                return MAX_TIME
    return SHOULD_STOP
