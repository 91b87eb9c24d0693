"""The callbacks every run has besides those conf/callbacks names: each needs what only the
run knows (its folder, the attempt's time limit) or must not be switched off by a config.

- TrainingHealth: fails a run on a non-finite loss or weights, counts GradScaler skips;
- SaveOnStop: last.ckpt at the step a run stopped early (or got SIGTERM);
- AttemptTimer: trainer.max_time, counted per attempt (see training/stop_reason.py);
- InterruptAtStep: debug.interrupt_at_step, a real Ctrl-C or SIGTERM for tests.

The configured LearningRateMonitor is dropped when the run has no logger to write to.
"""

from __future__ import annotations

from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig
from pytorch_lightning.callbacks import LearningRateMonitor

from .attempt_timer import AttemptTimer
from .interrupt_at_step import InterruptAtStep
from .save_on_stop import SaveOnStop
from .training_health import TrainingHealth


def run_callbacks(cfg: DictConfig, run_dir: Path, max_time=None, logged: bool = True) -> tuple[list, TrainingHealth]:
    """(every callback of the run, its TrainingHealth): cfg.callbacks, then the always-on ones.
    `max_time`: trainer.max_time (taken out of the Trainer's settings); `logged`: the run has a logger."""
    callbacks = [instantiate(c) for c in (cfg.callbacks or {}).values()]
    if not logged:  # the learning-rate monitor has nowhere to write
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    if cfg.debug.interrupt_at_step is not None:
        callbacks.append(InterruptAtStep(cfg.debug.interrupt_at_step, cfg.debug.interrupt_signal))
    health = TrainingHealth()
    callbacks += [health, SaveOnStop(Path(run_dir) / "checkpoints" / "last.ckpt")]
    if max_time is not None:
        callbacks.append(AttemptTimer(duration=max_time, interval="step"))
    return callbacks, health
