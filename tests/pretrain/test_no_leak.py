"""The objectives cannot be solved by reading the answer: mlm's input has the mask id where
the target is, and lm's causal encoder does not see the next token."""

from __future__ import annotations

import pytest
import torch
from pretrain_helpers import VOCAB, pattern_batch, tiny_encoder

from macformer.training.pretrain.head import TokenHead
from macformer.training.pretrain.module import PretrainModule, mask_generator
from macformer.training.pretrain.objectives import IGNORE, next_token_targets

CAUSAL = [("kernelized", {"kernel": "exp", "causal": True}),
          ("rmfa", {"kernel": "exp", "causal": True, "num_features": 64, "seed": 0})]


def mlm_logits(module: PretrainModule, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    inputs, mask, targets = module.inputs_and_targets(batch, mask_generator(0, 0, 0))
    with torch.no_grad():
        return module(inputs, mask), targets


def test_mlm_logits_do_not_depend_on_the_masked_ids():
    module = PretrainModule(tiny_encoder("softmax"), VOCAB, "mlm", 1e-3, 1, 10).eval()
    batch = pattern_batch(16, seed=0)
    logits, targets = mlm_logits(module, batch)
    masked = targets != IGNORE
    changed = dict(batch, input_ids=torch.where(masked, (batch["input_ids"] % (VOCAB - 1)) + 1,
                                                batch["input_ids"]))
    assert not torch.equal(changed["input_ids"], batch["input_ids"])
    assert torch.equal(mlm_logits(module, changed)[0], logits)
    # An unmasked real token does reach the logits (so the test above can fail).
    visible = ~masked & batch["attention_mask"]
    row, col = visible.nonzero()[0].tolist()
    seen = batch["input_ids"].clone()
    seen[row, col] = seen[row, col] % (VOCAB - 1) + 1
    assert not torch.equal(mlm_logits(module, dict(batch, input_ids=seen))[0][row], logits[row])


def next_token_change(encoder, t: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token logits [L, vocab] of one row before and after changing its token t+1 (lm's
    target at position t)."""
    head = TokenHead(encoder.dim, VOCAB)
    batch = pattern_batch(1, seed=1)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert next_token_targets(ids, mask)[0, t] == ids[0, t + 1]
    changed = ids.clone()
    changed[0, t + 1] = ids[0, t + 1] % (VOCAB - 1) + 1
    with torch.no_grad():
        return head(encoder.hidden_states(ids, mask))[0], head(encoder.hidden_states(changed, mask))[0]


@pytest.mark.parametrize("attention, options", CAUSAL, ids=[name for name, _ in CAUSAL])
def test_lm_logits_up_to_t_ignore_token_t_plus_1(attention, options):
    t = 7
    before, after = next_token_change(tiny_encoder(attention, options).eval(), t)
    torch.testing.assert_close(after[: t + 1], before[: t + 1], atol=1e-6, rtol=0)
    assert not torch.allclose(after[t + 1], before[t + 1], atol=1e-6)  # the change does arrive
    PretrainModule(tiny_encoder(attention, options), VOCAB, "lm", 1e-3, 1, 10)  # accepted


@pytest.mark.parametrize("attention, options", [("kernelized", {"kernel": "exp", "causal": False}),
                                                ("softmax", {"dropout": 0.0})])
def test_a_non_causal_encoder_leaks_the_next_token_and_lm_refuses_it(attention, options):
    t = 7
    encoder = tiny_encoder(attention, options).eval()
    before, after = next_token_change(encoder, t)
    assert not torch.allclose(after[: t + 1], before[: t + 1], atol=1e-6)
    with pytest.raises(ValueError, match="causal"):
        PretrainModule(encoder, VOCAB, "lm", 1e-3, 1, 10)
