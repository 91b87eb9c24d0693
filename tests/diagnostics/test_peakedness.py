"""Attention diagnostics: the statistics themselves, the ppSBN bound on a tiny model,
and the causal / non-causal difference they are meant to show."""

import math

import pytest
import torch

from macformer.attention.peakedness import output_spread, ppsbn_ratio_bound, weight_stats
from macformer.models import Encoder, build_classifier
from macformer.training.callbacks.attention_diagnostics import probe_attention


def test_uniform_and_one_hot_weights():
    n = 6
    allowed = torch.ones(1, 1, 1, n, dtype=torch.bool)
    uniform = torch.full((1, 1, n, n), 1 / n)
    stats = weight_stats(uniform, allowed, None)
    assert stats["entropy"] == pytest.approx(1.0)
    assert stats["max_min_ratio"] == pytest.approx(1.0)
    assert stats["negative_fraction"] == 0.0
    one_hot = torch.eye(n)[None, None]
    stats = weight_stats(one_hot, allowed, None)
    assert stats["entropy"] == pytest.approx(0.0, abs=1e-9)
    assert stats["max_min_ratio"] == math.inf


def test_signed_weights_count_as_negative_and_unbounded():
    w = torch.tensor([[[[0.7, 0.5, -0.2], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]]]])
    stats = weight_stats(w, torch.ones(1, 1, 1, 3, dtype=torch.bool), None)
    assert stats["negative_fraction"] == pytest.approx(1 / 9)


def test_output_spread_is_zero_when_every_position_gets_the_same_vector():
    v = torch.randn(2, 2, 10, 4)
    same = v.mean(2, keepdim=True).expand_as(v)
    assert output_spread(same, v, None) == pytest.approx(0.0, abs=1e-9)
    assert output_spread(v, v, None) == pytest.approx(1.0)


def test_ppsbn_bound_values():
    assert ppsbn_ratio_bound("exp", 32) == pytest.approx(math.exp(2 / math.sqrt(32)))  # 1.42
    assert ppsbn_ratio_bound("inverse", 32) == pytest.approx((1 + 32**-0.5) / (1 - 32**-0.5))


def _model(attention, options, head_dim=8, length=48, seed=0):
    torch.manual_seed(seed)
    encoder = Encoder(16, length, dim=16, num_layers=2, num_heads=2, head_dim=head_dim, ff_dim=32,
                      dropout=0.0, attention=attention, attention_options=options)
    return build_classifier(encoder, 10, dual=False)


def _batch(length=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 16, (2, length), generator=g)
    mask = torch.ones(2, length, dtype=torch.bool)
    mask[1, length // 2 :] = False
    return {"input_ids": ids, "attention_mask": mask, "label": torch.zeros(2, dtype=torch.long)}


@pytest.mark.parametrize("attention,options", [
    ("kernelized", {"kernel": "exp"}), ("kernelized", {"kernel": "inverse", "causal": True}),
    ("rmfa", {"kernel": "exp", "num_features": 64, "causal": True}), ("rmfa", {"kernel": "sqrt", "num_features": 64}),
])
def test_ppsbn_bounds_the_kernel_weights_on_a_tiny_model(attention, options):
    """With ppSBN, two kernel weights differ by at most f(d^-1/2)/f(-d^-1/2): the
    diagnostics measure that ratio below the bound, and the exact attention's own
    weights obey it too. Without ppSBN (softmax) nothing bounds it."""
    stats = probe_attention(_model(attention, options), _batch())
    bound = ppsbn_ratio_bound(options["kernel"], 8)
    for layer in stats:
        assert 1.0 < layer["kernel_max_min_ratio"] <= bound + 1e-9
        if attention == "kernelized":
            assert layer["max_min_ratio"] <= bound + 1e-9
            assert layer["entropy"] > 0.95  # nearly uniform: the bag-of-tokens regime


def test_causal_form_carries_position_where_the_non_causal_form_does_not():
    """The reason the Macformer rows run causally: non-causal RMFA with ppSBN gives every
    position nearly the same vector; the causal running mean varies along the sequence."""
    batch = _batch(length=64)
    spread = {}
    for causal in (False, True):
        model = _model("rmfa", {"kernel": "exp", "num_features": 128, "causal": causal, "seed": 0}, length=64)
        spread[causal] = probe_attention(model, batch)[0]["output_spread"]
    assert spread[False] < 0.2
    assert spread[True] > 2 * spread[False]


def test_every_variant_gives_finite_diagnostics():
    for attention, options in [("softmax", {}), ("rfa", {}), ("performer", {}), ("rmfa", {"kernel": "log"})]:
        for layer in probe_attention(_model(attention, options), _batch()):
            assert 0.0 <= layer["entropy"] <= 1.0 + 1e-9
            assert math.isfinite(layer["output_spread"])
