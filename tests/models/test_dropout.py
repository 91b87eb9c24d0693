"""The CPU dropout: its drop rate, unbiasedness, gradient, repeatability, and when it steps aside."""

import math

import pytest
import torch
from torch import nn

from macformer.models.dropout import Dropout, keep_mask, quantised_rate


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_drop_rate_matches_p_within_sampling_error(p):
    torch.manual_seed(0)
    n = 400_000
    kept = keep_mask(torch.Size([n]), p, torch.device("cpu")).double().mean().item()
    # Kept count ~ Binomial(n, 1 - p'): 4 standard errors, plus the 2^-16 rounding of p.
    se = math.sqrt(p * (1 - p) / n)
    assert abs(quantised_rate(p) - p) <= 2**-17
    assert abs(kept - (1 - p)) <= 4 * se + 2**-16


def test_output_is_unbiased_and_masks_agree_with_gradient():
    torch.manual_seed(1)
    layer = Dropout(0.3).train()
    x = torch.full((200_000,), 2.0, requires_grad=True)
    out = layer(x)
    kept = out != 0
    # Kept values all equal 2 / (1 - p'); the mean estimates 2 with sd 2·√(p/(1-p)/n).
    scale = 1 / (1 - quantised_rate(0.3))
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 2.0 * scale))
    assert abs(out.mean().item() - 2.0) <= 4 * 2.0 * math.sqrt(0.3 / 0.7 / x.numel())
    out.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() * scale)


def test_seeded_runs_repeat_and_unseeded_draws_differ():
    x = torch.randn(64, 32)
    layer = Dropout(0.2).train()
    torch.manual_seed(5)
    a, b = layer(x), layer(x)
    torch.manual_seed(5)
    assert torch.equal(layer(x), a)
    assert not torch.equal(a, b)


def test_eval_mode_and_zero_rate_are_identity_and_state_dict_matches_nn_dropout():
    x = torch.randn(8, 16)
    assert torch.equal(Dropout(0.5).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert Dropout(0.1).state_dict().keys() == nn.Dropout(0.1).state_dict().keys()
