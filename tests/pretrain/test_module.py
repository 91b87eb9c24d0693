"""PretrainModule through a Lightning Trainer on CPU: both objectives learn a structured task,
retrieval pairs pretrain on both documents, and a resumed run is bit-exact."""

from __future__ import annotations

import math

import pytest
import pytorch_lightning as pl
import torch
from pretrain_helpers import VOCAB, pattern_batch, tiny_encoder
from torch.nn import functional as F
from torch.utils.data import DataLoader

from macformer.training.pretrain.module import PretrainModule, mask_generator
from macformer.training.pretrain.objectives import IGNORE

CAUSAL = ("kernelized", {"kernel": "exp", "causal": True})


def trainer(max_steps: int, **options) -> pl.Trainer:
    return pl.Trainer(max_steps=max_steps, accelerator="cpu", devices=1, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, num_sanity_val_steps=0, **options)


def loader(batches) -> DataLoader:
    return DataLoader(batches, batch_size=None)


def val_token_losses(module: PretrainModule, batches) -> torch.Tensor:
    """Per-token losses [T] on the validation batches, with validation's own masks."""
    losses = []
    with torch.no_grad():
        for index, batch in enumerate(batches):
            inputs, mask, targets = module.inputs_and_targets(batch, mask_generator(module.seed, 1, index))
            logits = module(inputs, mask)
            scored = targets != IGNORE
            losses.append(F.cross_entropy(logits[scored], targets[scored], reduction="none"))
    return torch.cat(losses)


def val_target_entropy(module: PretrainModule, batches) -> float:
    """The entropy of the validation targets' frequencies: the lowest loss a predictor that
    ignores the context can reach on them."""
    targets = torch.cat([module.inputs_and_targets(b, mask_generator(module.seed, 1, i))[2].flatten()
                         for i, b in enumerate(batches)])
    counts = torch.bincount(targets[targets != IGNORE], minlength=VOCAB).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


@pytest.mark.parametrize("objective", ["mlm", "lm"])
def test_loss_falls_below_what_token_frequencies_give(objective):
    steps = 150
    encoder = tiny_encoder(*CAUSAL) if objective == "lm" else tiny_encoder("softmax")
    module = PretrainModule(encoder, VOCAB, objective, lr=3e-3, warmup_steps=10, max_steps=steps)
    train = [pattern_batch(32, seed=i) for i in range(steps)]
    val = [pattern_batch(64, seed=100_000 + i) for i in range(4)]
    fit = trainer(steps)
    fit.validate(module, loader(val), verbose=False)
    start = module.last_loss
    baseline = val_target_entropy(module, val)
    # Untrained, the model is no better than the frequencies (it predicts about uniformly).
    assert start > baseline
    fit.fit(module, loader(train), loader(val))
    losses = val_token_losses(module, val)
    assert module.last_loss == pytest.approx(float(losses.mean()), rel=1e-5)
    # Trained, it must beat the best context-free loss by more than its sampling error:
    # only reading the other tokens of the row gets there.
    margin = 3 * float(losses.std()) / math.sqrt(losses.numel())
    assert module.last_loss < baseline - margin < start
    assert 0.0 <= module.last_token_accuracy <= 1.0
    logged = fit.logged_metrics
    assert {"pretrain/loss", "pretrain/token_accuracy", "pretrain_val/loss",
            "pretrain_val/token_accuracy"} <= set(logged)
    assert float(logged["pretrain_val/loss"]) == pytest.approx(module.last_loss)


def test_retrieval_pretrains_on_both_documents():
    module = PretrainModule(tiny_encoder(*CAUSAL), VOCAB, "lm", 1e-3, 1, 10)
    batch = pattern_batch(4, seed=0, pair=True)
    inputs, mask, targets = module.inputs_and_targets(batch, mask_generator(0, 0, 0))
    assert torch.equal(inputs, torch.cat([batch["input_ids"], batch["input_ids_pair"]]))
    assert torch.equal(mask, torch.cat([batch["attention_mask"], batch["attention_mask_pair"]]))
    assert targets.shape == (8, batch["input_ids"].shape[1])


def test_mlm_needs_the_mask_row():
    with pytest.raises(ValueError, match="vocab_size \\+ 1"):
        PretrainModule(tiny_encoder("softmax", rows=VOCAB), VOCAB, "mlm", 1e-3, 1, 10)
    with pytest.raises(ValueError, match="objective"):
        PretrainModule(tiny_encoder("softmax"), VOCAB, "mask", 1e-3, 1, 10)


def test_resumed_run_is_bit_exact(tmp_path):
    # Dropout on, so the restored global random state matters as well as the seeded masks.
    # Every batch is the same, so the loader's position after resuming does not matter.
    batches = [pattern_batch(16, seed=0, pair=True)] * 100

    def fresh():
        return PretrainModule(tiny_encoder("softmax", dropout=0.1), VOCAB, "mlm", 3e-3, 2, 8, seed=7)

    straight = fresh()
    torch.manual_seed(123)
    trainer(8).fit(straight, loader(batches))
    first = fresh()
    torch.manual_seed(123)
    half = trainer(4)
    half.fit(first, loader(batches))
    half.save_checkpoint(tmp_path / "half.ckpt")
    torch.manual_seed(999)  # whatever the process drew since, the checkpoint's state wins
    resumed = fresh()
    trainer(8).fit(resumed, loader(batches), ckpt_path=tmp_path / "half.ckpt")
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    # Without the saved random state (the dropout masks then differ) the runs part.
    plain = fresh()
    torch.manual_seed(999)
    trainer(8).fit(plain, loader(batches))
    assert not torch.equal(plain.head.projection.weight, straight.head.projection.weight)
