"""The best-validation checkpoint, with the Macformer authors' rule as an option.

Their LRA code tracks the best dev accuracy from the first evaluation, but saves the
model only when a new best comes after `save_after_fraction` (0.2) of the steps; when
no later evaluation beats the early best, nothing is saved and the FINAL model is
tested. `save_after_fraction=0` is Lightning's usual best checkpoint.
"""

from __future__ import annotations

from pytorch_lightning.callbacks import ModelCheckpoint


class BestCheckpoint(ModelCheckpoint):
    def __init__(self, *args, save_after_fraction: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 <= save_after_fraction < 1.0:
            raise ValueError(f"save_after_fraction must be in [0, 1), got {save_after_fraction}")
        self.save_after_fraction = save_after_fraction
        self.running_best: float | None = None  # best monitored value at any step

    def _save_topk_checkpoint(self, trainer, monitor_candidates) -> None:
        if self.save_after_fraction == 0.0 or self.monitor not in monitor_candidates:
            return super()._save_topk_checkpoint(trainer, monitor_candidates)
        current = float(monitor_candidates[self.monitor])
        improved = self.running_best is None or (
            current > self.running_best if self.mode == "max" else current < self.running_best)
        if improved:
            self.running_best = current
            if trainer.global_step > self.save_after_fraction * trainer.max_steps:
                super()._save_topk_checkpoint(trainer, monitor_candidates)

    def state_dict(self):
        return {**super().state_dict(), "running_best": self.running_best}

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.running_best = state_dict.get("running_best")
