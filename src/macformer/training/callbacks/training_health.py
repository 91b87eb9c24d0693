"""Stop a run whose training has gone numerically wrong, instead of recording it as completed.

- A non-finite training loss fails the run at that step (it never recovers: AdamW's state
  is poisoned too).
- Non-finite weights fail the run before a validation and before any checkpoint is
  written, so best.ckpt / last.ckpt never hold NaN weights.
- Under 16-bit mixed precision the GradScaler skips the steps whose gradients overflow;
  SkipCounter counts them and decides when skipping has become failure.

On a GPU, reading a step's loss or the scaler's scale on the host waits for the GPU:
every step would then start with an empty launch queue. So the per-step facts stay on
the device and are read together every `check_every` steps (50 on a GPU, 1 on a CPU,
where reading costs nothing), and always before a validation, a checkpoint and the end
of training. A failure is reported at the step it happened, not the step it was read.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from macformer.lifecycle.outcome import TrainingDiverged


class SkipCounter:
    """Optimiser steps the GradScaler skipped, and when that means the run has failed.

    Some skips are routine: the scale starts at 2^16 and halves on each overflow until the
    gradients fit (a few skips at the start), then grows again every 2000 steps (about one
    skip each time). The run fails when
    - more than `max_consecutive` (20) steps in a row were skipped: 20 halvings take the
      scale from 2^16 below 2^-4, so no scale gives finite gradients; or
    - more than `max_fraction` (10 %) of the steps were skipped once `min_steps` (500)
      steps are done: the weights hardly change, the run is not training.
    """

    def __init__(self, max_consecutive: int = 20, max_fraction: float = 0.1, min_steps: int = 500):
        self.max_consecutive, self.max_fraction, self.min_steps = max_consecutive, max_fraction, min_steps
        self.steps = self.skipped = self.consecutive = 0

    def record(self, skipped: bool) -> str | None:
        """Count one optimiser step; return why the run has failed, or None."""
        self.steps += 1
        self.skipped += int(skipped)
        self.consecutive = self.consecutive + 1 if skipped else 0
        if self.consecutive > self.max_consecutive:
            return (f"the 16-bit GradScaler skipped {self.consecutive} steps in a row (non-finite "
                    f"gradients at every scale)")
        if self.steps >= self.min_steps and self.skipped > self.max_fraction * self.steps:
            return (f"the 16-bit GradScaler skipped {self.skipped} of {self.steps} steps "
                    f"(more than {self.max_fraction:.0%})")
        return None

    def state_dict(self) -> dict:
        return {"steps": self.steps, "skipped": self.skipped, "consecutive": self.consecutive}

    def load_state_dict(self, state: dict) -> None:
        self.steps, self.skipped, self.consecutive = state["steps"], state["skipped"], state["consecutive"]


def _scaler(trainer: pl.Trainer):
    scaler = getattr(trainer.precision_plugin, "scaler", None)
    return scaler if scaler is not None and scaler.is_enabled() else None


def _scale_of(scaler) -> torch.Tensor:
    """The scaler's current scale as a device tensor (no host sync), where torch keeps one."""
    scale = getattr(scaler, "_scale", None)
    return scale.detach() if isinstance(scale, torch.Tensor) else torch.tensor(scaler.get_scale())


def _advice(pl_module) -> str:
    lr = getattr(pl_module, "lr", None)
    return f"lower task.lr{f' (now {lr:g})' if lr is not None else ''} or check the data"


class TrainingHealth(pl.Callback):
    def __init__(self, max_consecutive_skips: int = 20, max_skip_fraction: float = 0.1,
                 min_steps_for_fraction: int = 500, check_every: int | None = None):
        self.skips = SkipCounter(max_consecutive_skips, max_skip_fraction, min_steps_for_fraction)
        self.check_every = check_every  # None: 50 on a GPU, 1 elsewhere (set at the start)
        self._scale_before: torch.Tensor | None = None
        # (step, loss, skipped) per step not yet read on the host; tensors stay on the device.
        self._pending: list[tuple[int, torch.Tensor | None, torch.Tensor | None]] = []

    def on_train_start(self, trainer, pl_module):
        if self.check_every is None:
            self.check_every = 50 if trainer.strategy.root_device.type == "cuda" else 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        scaler = _scaler(trainer)  # gradients are unscaled here; the scaler updates after the step
        self._scale_before = _scale_of(scaler).clone() if scaler is not None else None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        loss = loss.detach() if isinstance(loss, torch.Tensor) else None
        skipped = None
        scaler = _scaler(trainer)
        if scaler is not None and self._scale_before is not None:
            # GradScaler.update halves the scale exactly when it skipped the step.
            skipped = _scale_of(scaler) < self._scale_before
            self._scale_before = None
        self._pending.append((int(trainer.global_step), loss, skipped))
        if len(self._pending) >= (self.check_every or 1):
            self.check_steps(pl_module)

    def check_steps(self, pl_module) -> None:
        """Read the pending steps' facts in one transfer; raise at the first failure."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        finite = [True if loss is None else torch.isfinite(loss).all() for _, loss, _ in pending]
        skipped = [s for _, _, s in pending if s is not None]
        flags = torch.stack([torch.as_tensor(f) for f in finite] + skipped).cpu().tolist()  # one sync
        finite, skipped = flags[: len(pending)], iter(flags[len(pending):])
        for (step, loss, skip), ok in zip(pending, finite, strict=True):
            if not ok:
                raise TrainingDiverged(f"training loss {float(loss.float().mean())} at step {step}: "
                                       f"training diverged; {_advice(pl_module)}", step, "non_finite_loss")
            if skip is not None:
                verdict = self.skips.record(bool(next(skipped)))
                if verdict:
                    raise TrainingDiverged(f"{verdict} at step {step}; {_advice(pl_module)}", step,
                                           "skipped_steps")

    def on_train_end(self, trainer, pl_module):
        self.check_steps(pl_module)

    def check_weights(self, trainer, pl_module) -> None:
        for name, param in pl_module.named_parameters():
            if not bool(torch.isfinite(param.detach()).all()):
                step = int(trainer.global_step)
                raise TrainingDiverged(f"non-finite weights ({name}) at step {step}: training diverged; "
                                       f"{_advice(pl_module)}", step, "non_finite_weights")

    def on_validation_start(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.check_steps(pl_module)
            self.check_weights(trainer, pl_module)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        self.check_steps(pl_module)  # a loss that went non-finite is named before the weights
        self.check_weights(trainer, pl_module)  # raising here keeps NaN weights out of every .ckpt

    def state_dict(self) -> dict:
        return {"skips": self.skips.state_dict()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.skips.load_state_dict(state_dict["skips"])
