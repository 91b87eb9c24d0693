"""`PretrainModule`: self-pretraining of an encoder on its task's own training inputs.

Self-pretraining (Amos, Berant and Gupta, "Never Train from Scratch", ICLR 2024) trains
the encoder to predict tokens of the task's inputs, labels unused, before fine-tuning:
`mlm` predicts masked tokens (loss at masked positions only), `lm` the next token
(causal encoders only). A `TokenHead` reads the encoder's hidden states; fine-tuning
keeps `self.encoder` and drops the head.

The mask id is `vocab_size`, one past the task's ids: for `mlm` the caller builds the
encoder with vocab_size + 1 embedding rows (the extra row is the mask token's), and the
head still predicts among the vocab_size real ids. Masks come from a generator seeded
from (seed, step), so a resumed run draws the masks the uninterrupted one would have;
validation masks are seeded from (seed, batch index), the same at every validation, so
validation losses are comparable along the run. Optimiser and schedule are those of
`LRALitModule`: AdamW and the linear one-cycle schedule.
"""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F

from ..lit_module import one_cycle_factor
from ..rng_states import RestoresRngStates, capture_rng_states
from .head import TokenHead
from .objectives import IGNORE, mask_tokens, next_token_targets

OBJECTIVES = ("mlm", "lm")
_TRAIN_STREAM, _VAL_STREAM = 0, 1  # separate seed streams for training and validation masks


def encoder_is_causal(encoder: nn.Module) -> bool:
    """Every block's attention lets position t see only positions ≤ t."""
    return all(bool(getattr(block.attention, "causal", False)) for block in encoder.blocks)


def mask_generator(seed: int, stream: int, index: int, rank: int = 0) -> torch.Generator:
    """A CPU generator seeded from (seed, stream, index, rank) through NumPy's SeedSequence,
    so that nearby seeds and steps give unrelated masks."""
    state = np.random.SeedSequence([seed, stream, index, rank]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


class PretrainModule(RestoresRngStates, pl.LightningModule):
    def __init__(self, encoder: nn.Module, vocab_size: int, objective: str, lr: float,
                 warmup_steps: int, max_steps: int, mask_rate: float = 0.5, mask_span: int = 1,
                 mask_id: int | None = None, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.0, seed: int = 0):
        super().__init__()
        if objective not in OBJECTIVES:
            raise ValueError(f"pretraining objective {objective!r} is not allowed; allowed values: "
                             f"{', '.join(OBJECTIVES)}")
        self.mask_id = vocab_size if mask_id is None else mask_id
        rows = encoder.token_embedding.num_embeddings
        if objective == "mlm" and not (vocab_size <= self.mask_id < rows):
            raise ValueError(f"mlm needs an embedding row for the mask id {self.mask_id} outside the "
                             f"{vocab_size} task ids; the encoder has {rows} rows (build it with "
                             f"vocab_size + 1)")
        if objective == "lm" and not encoder_is_causal(encoder):
            raise ValueError("lm pretraining needs a causal encoder (attention option causal: true); "
                             "a non-causal one sees the token it predicts")
        self.encoder, self.head = encoder, TokenHead(encoder.dim, vocab_size)
        self.objective, self.vocab_size, self.seed = objective, vocab_size, seed
        self.mask_rate, self.mask_span = mask_rate, mask_span
        self.lr, self.warmup_steps, self.max_steps = lr, warmup_steps, max_steps
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay
        # The last validation's token-weighted loss and accuracy, for the caller's summary.
        self.last_loss: float | None = None
        self.last_token_accuracy: float | None = None
        # Summed loss, correct predictions and targets of the running validation.
        self.register_buffer("val_sums", torch.zeros(3), persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.hidden_states(input_ids, attention_mask))  # [B, L, vocab]

    def inputs_and_targets(self, batch: dict[str, torch.Tensor], generator: torch.Generator):
        """The batch's token sequences (retrieval: both documents, stacked along the batch)
        → (model inputs [B', L], attention mask [B', L], targets [B', L])."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        if "input_ids_pair" in batch:
            ids = torch.cat([ids, batch["input_ids_pair"]])
            mask = torch.cat([mask, batch["attention_mask_pair"]])
        if self.objective == "lm":
            return ids, mask, next_token_targets(ids, mask)
        inputs, targets = mask_tokens(ids, mask, self.mask_rate, self.mask_span, self.mask_id, generator)
        return inputs, mask, targets

    def _sums(self, batch, generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(summed cross-entropy, correct predictions, number of targets) over the batch."""
        inputs, mask, targets = self.inputs_and_targets(batch, generator)
        logits = self(inputs, mask)
        scored = targets != IGNORE  # [B', L]
        logits, targets = logits[scored].float(), targets[scored]  # [T, vocab], [T]
        loss_sum = F.cross_entropy(logits, targets, reduction="sum")
        correct = (logits.detach().argmax(-1) == targets).sum()
        return loss_sum, correct, scored.sum()

    def training_step(self, batch, batch_idx):
        generator = mask_generator(self.seed, _TRAIN_STREAM, int(self.global_step), self.global_rank)
        loss_sum, correct, count = self._sums(batch, generator)
        count_f = count.clamp_min(1).float()
        loss = loss_sum / count_f
        size = batch["input_ids"].shape[0]  # step values only: no epoch mean to weight
        self.log("pretrain/loss", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=size)
        self.log("pretrain/token_accuracy", correct.float() / count_f, on_step=True, on_epoch=False,
                 batch_size=size)
        return loss

    def validation_step(self, batch, batch_idx):
        generator = mask_generator(self.seed, _VAL_STREAM, batch_idx, self.global_rank)
        loss_sum, correct, count = self._sums(batch, generator)
        self.val_sums += torch.stack([loss_sum.detach(), correct.float(), count.float()])

    def on_validation_epoch_end(self):
        sums = self.all_gather(self.val_sums).reshape(-1, 3).sum(0)  # every process's tokens
        self.val_sums.zero_()
        if self.trainer.sanity_checking or sums[2] == 0:
            return
        self.last_loss = float(sums[0] / sums[2])
        self.last_token_accuracy = float(sums[1] / sums[2])
        self.log("pretrain_val/loss", self.last_loss, sync_dist=False, rank_zero_only=False)
        self.log("pretrain_val/token_accuracy", self.last_token_accuracy, sync_dist=False,
                 rank_zero_only=False)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, betas=self.betas, eps=self.eps,
                                      weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, one_cycle_factor(self.warmup_steps, self.max_steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # --- checkpoints: the last validation and the random state, so a resumed run continues exactly.
    def on_save_checkpoint(self, checkpoint):
        checkpoint["pretrain_last"] = {"loss": self.last_loss, "token_accuracy": self.last_token_accuracy}
        checkpoint["rng_states"] = capture_rng_states()

    def on_load_checkpoint(self, checkpoint):
        last = checkpoint.get("pretrain_last") or {}
        self.last_loss, self.last_token_accuracy = last.get("loss"), last.get("token_accuracy")
        self._rng_states_to_restore = checkpoint.get("rng_states")
