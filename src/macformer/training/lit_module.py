"""The Lightning module: cross-entropy on an LRA classifier, AdamW with a one-cycle schedule.

The optimiser and schedule are those of the Macformer authors' LRA code: AdamW
(betas 0.9/0.999, eps 1e-6, no weight decay) and a one-cycle schedule with linear
warm-up for `warmup_steps` then linear anneal to `max_steps` (pct_start =
warmup/steps). The best validation accuracy and its step are tracked here and saved
in checkpoints, so a resumed run still knows them.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy

from .rng_states import RestoresRngStates, capture_rng_states


def _one_cycle_position(step: int, warmup_steps: int, max_steps: int) -> tuple[bool, float]:
    """(warming up?, fraction of the phase done) exactly as PyTorch's OneCycleLR places its
    phases: the warm-up ends at step pct_start·total − 1 = warmup − 1, the anneal at
    max_steps − 1. A warm-up of 0 or 1 step (OneCycleLR divides by zero there) anneals
    from step 0."""
    peak, last = warmup_steps - 1, max_steps - 1
    if step < peak:
        return True, step / peak
    span = max(last - peak, 1)
    return False, min(max(step - peak, 0), span) / span


def one_cycle_factor(warmup_steps: int, max_steps: int, div_factor: float = 25.0,
                     final_div_factor: float = 1e4):
    """lr multiplier at each step: PyTorch's linear OneCycleLR (pct_start = warmup/steps), as
    the LRA ports and the Macformer authors ran it: from 1/div_factor up to 1 over the
    warm-up, then linearly down to 1/(div_factor·final_div_factor) at the last step."""
    start, end = 1.0 / div_factor, 1.0 / (div_factor * final_div_factor)

    def factor(step: int) -> float:
        warming, done = _one_cycle_position(step, warmup_steps, max_steps)
        return start + (1.0 - start) * done if warming else 1.0 + (end - 1.0) * done

    return factor


def one_cycle_beta1(step: int, warmup_steps: int, max_steps: int, high: float = 0.95,
                    low: float = 0.85) -> float:
    """Adam's β1 as PyTorch's OneCycleLR cycles it (its default momentum cycling): from
    `high` down to `low` over the warm-up, while the lr rises, then back up to `high`."""
    warming, done = _one_cycle_position(step, warmup_steps, max_steps)
    return high - (high - low) * done if warming else low + (high - low) * done


class OneCycleWithBeta1(torch.optim.lr_scheduler.LambdaLR):
    """The one-cycle lr factor, and β1 cycled along with it (the authors' protocol)."""

    def __init__(self, optimizer, warmup_steps: int, max_steps: int):
        self.warmup_steps, self.max_steps = warmup_steps, max_steps  # ints: the state stays plain
        super().__init__(optimizer, one_cycle_factor(warmup_steps, max_steps))

    def get_lr(self):
        beta1 = one_cycle_beta1(self.last_epoch, self.warmup_steps, self.max_steps)
        for group in self.optimizer.param_groups:
            group["betas"] = (beta1, group["betas"][1])
        return super().get_lr()


class LRALitModule(RestoresRngStates, pl.LightningModule):
    def __init__(self, model: nn.Module, num_classes: int, lr: float, warmup_steps: int,
                 max_steps: int, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0, cycle_beta1: bool = False):
        super().__init__()
        self.model = model
        self.cycle_beta1 = cycle_beta1
        self.lr, self.warmup_steps, self.max_steps = lr, warmup_steps, max_steps
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay
        self.train_accuracy = MulticlassAccuracy(num_classes, average="micro")
        self.val_accuracy = MulticlassAccuracy(num_classes, average="micro")
        self.test_accuracy = MulticlassAccuracy(num_classes, average="micro")
        self.best_val_accuracy: float | None = None
        self.best_step: int | None = None
        # Labels seen in this validation: their majority share is the chance line of the
        # validation curves (the test set's may differ). Not part of the checkpoint.
        self.register_buffer("val_label_counts", torch.zeros(num_classes, dtype=torch.long), persistent=False)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(batch)

    def _step(self, batch, metric: MulticlassAccuracy, stage: str):
        logits = self(batch)
        loss = F.cross_entropy(logits.float(), batch["label"])
        metric(logits.detach(), batch["label"])
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, on_step=on_step, on_epoch=not on_step, sync_dist=not on_step,
                 batch_size=batch["label"].shape[0], prog_bar=on_step)
        self.log(f"{stage}/accuracy", metric, on_step=on_step, on_epoch=not on_step,
                 batch_size=batch["label"].shape[0], prog_bar=not on_step)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, self.train_accuracy, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, self.val_accuracy, "val")
        self.val_label_counts += torch.bincount(batch["label"], minlength=self.val_label_counts.numel())

    def test_step(self, batch, batch_idx):
        self._step(batch, self.test_accuracy, "test")

    def on_validation_epoch_end(self):
        counts = self.all_gather(self.val_label_counts)  # every process's labels
        counts = counts.reshape(-1, self.val_label_counts.numel()).sum(0)
        self.val_label_counts.zero_()
        if self.trainer.sanity_checking:
            return
        if counts.sum() > 0:
            self.log("val/chance_accuracy", float(counts.max() / counts.sum()), sync_dist=False,
                     rank_zero_only=False)
        accuracy = float(self.val_accuracy.compute())  # synced over processes
        if self.best_val_accuracy is None or accuracy > self.best_val_accuracy:
            # The step the loggers give this validation (metrics.csv's `step`, W&B's
            # trainer/global_step): the index of the last step trained, global_step - 1.
            self.best_val_accuracy, self.best_step = accuracy, max(int(self.global_step) - 1, 0)
        # In callback_metrics so that ddp_spawn hands them back to the main process.
        self.log("val/best_accuracy", self.best_val_accuracy, sync_dist=False, rank_zero_only=False)
        self.log("val/best_step", float(self.best_step), sync_dist=False, rank_zero_only=False)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, betas=self.betas, eps=self.eps,
                                      weight_decay=self.weight_decay)
        if self.cycle_beta1:
            scheduler = OneCycleWithBeta1(optimizer, self.warmup_steps, self.max_steps)
        else:
            scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer, one_cycle_factor(self.warmup_steps, self.max_steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # --- checkpoints: best-so-far and the random state, so a resumed run continues exactly.
    def on_save_checkpoint(self, checkpoint):
        checkpoint["best_val_accuracy"] = self.best_val_accuracy
        checkpoint["best_step"] = self.best_step
        checkpoint["rng_states"] = capture_rng_states()

    def on_load_checkpoint(self, checkpoint):
        self.best_val_accuracy = checkpoint.get("best_val_accuracy")
        self.best_step = checkpoint.get("best_step")
        self._rng_states_to_restore = checkpoint.get("rng_states")

