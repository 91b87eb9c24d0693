"""Random Maclaurin features: the law of the draw, unbiasedness, gradients, state."""

import math

import pytest
import torch

from macformer.attention.kernels import KERNELS, maclaurin_coefficients, truncated_kernel_value
from macformer.attention.rmf.random_maclaurin import RandomMaclaurinFeatures, degree_probabilities


def pair_with_dot(norm_sq: float, cosine: float, dim: int = 16, seed: int = 0):
    """x, y with |x|² = |y|² = norm_sq and x·y = norm_sq · cosine."""
    g = torch.Generator().manual_seed(seed)
    u, w = torch.linalg.qr(torch.randn(dim, 2, generator=g, dtype=torch.float64))[0].T
    r = math.sqrt(norm_sq)
    return r * u, r * (cosine * u + math.sqrt(1 - cosine**2) * w)


def test_degree_probabilities_follow_p_law():
    probs = degree_probabilities(20, p=2.0)
    assert probs.shape == (20,) and abs(float(probs.sum()) - 1) < 1e-12
    torch.testing.assert_close(probs[1:] / probs[:-1], torch.full((19,), 0.5, dtype=torch.float64))


def test_drawn_degrees_follow_their_law():
    feats = RandomMaclaurinFeatures(4, num_features=40_001, seed=3)
    counts = torch.bincount(feats.degrees, minlength=21)[1:].double()
    n = counts.sum()
    probs = degree_probabilities(20)
    # Each count is Binomial(n, p): allow 4 standard errors.
    se = (n * probs * (1 - probs)).sqrt()
    assert bool(((counts - n * probs).abs() <= 4 * se + 1).all())
    assert int(feats.degrees.min()) >= 1 and int(feats.degrees.max()) <= 20


def test_feature_layout_constant_first_and_rademacher_weights():
    feats = RandomMaclaurinFeatures(8, num_features=32, kernel="log", seed=0)
    x = torch.randn(5, 8)
    phi = feats(x)
    assert phi.shape == (5, 32)
    torch.testing.assert_close(phi[:, 0], torch.ones(5))  # √a_0 = 1 for log
    # Weights are ±(feature scale) on each feature's first factor and ±1 elsewhere,
    # with scale_j = √(a_N/P(N)) / √(D−1).
    assert int(feats.weights.shape[1]) == int(feats.degrees.sum())
    a = maclaurin_coefficients("log", 20)
    probs = degree_probabilities(20)
    expected_scales = (a[feats.degrees] / probs[feats.degrees - 1]).sqrt() / math.sqrt(31)
    torch.testing.assert_close(feats.scales.double(), expected_scales, rtol=1e-6, atol=0)
    magnitudes = feats.weights.abs()
    for n, c, row, feat in feats._groups:
        first = magnitudes[:, row : row + c]
        torch.testing.assert_close(first, feats.scales[feat : feat + c].expand(8, c))
        torch.testing.assert_close(magnitudes[:, row + c : row + n * c], torch.ones(8, (n - 1) * c))


def test_features_match_the_textbook_formula():
    """φ_j(x) = scale_j · Π_i (w_{j,i}·x) recomputed feature by feature from the draw."""
    feats = RandomMaclaurinFeatures(8, num_features=40, kernel="exp", seed=4).double()
    x = torch.randn(3, 8, dtype=torch.float64)
    expected = [torch.ones(3, dtype=torch.float64)]
    signs = feats.weights.sign()
    for n, c, row, feat in feats._groups:
        for j in range(c):
            cols = [row + i * c + j for i in range(n)]
            expected.append(feats.scales[feat + j] * torch.prod(x @ signs[:, cols], dim=-1))
    torch.testing.assert_close(feats(x), torch.stack(expected, dim=-1))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("norm_sq,cosine", [(0.3, 0.5), (0.9, 0.8), (0.9, -0.8)])
def test_unbiased_for_the_truncated_series(kernel, norm_sq, cosine):
    """Mean of φ(x)·φ(y) over independent draws matches Σ_{n≤20} a_n (x·y)ⁿ within 4 SE."""
    x, y = pair_with_dot(norm_sq, cosine)
    draws = 300
    estimates = torch.empty(draws, dtype=torch.float64)
    for s in range(draws):
        feats = RandomMaclaurinFeatures(16, num_features=257, kernel=kernel, seed=1000 + s).double()
        estimates[s] = feats(x) @ feats(y)
    truth = float(truncated_kernel_value(kernel, x @ y, 20))
    se = float(estimates.std()) / math.sqrt(draws)
    assert abs(float(estimates.mean()) - truth) < 4 * se, (float(estimates.mean()), truth, se)


def test_hand_written_backward_matches_autograd_in_float64():
    feats = RandomMaclaurinFeatures(6, num_features=48, kernel="exp", seed=2).double()
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(feats, (x,))


def test_backward_is_exact_where_a_projection_is_zero():
    feats = RandomMaclaurinFeatures(4, num_features=64, seed=5).double()
    x = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)  # every projection is 0
    assert torch.autograd.gradcheck(feats, (x,))


def test_state_dict_carries_the_draw_across_seeds():
    source = RandomMaclaurinFeatures(16, num_features=128, kernel="sqrt", seed=1)
    target = RandomMaclaurinFeatures(16, num_features=128, kernel="sqrt", seed=99)
    x = torch.randn(10, 16)
    assert not torch.equal(source(x), target(x))
    target.load_state_dict(source.state_dict())
    assert torch.equal(source(x), target(x))


def test_redraw_makes_a_new_draw_and_seed_repeats():
    feats = RandomMaclaurinFeatures(8, num_features=64, seed=0)
    x = torch.randn(4, 8)
    before = feats(x)
    feats.redraw()
    assert not torch.equal(before, feats(x))
    feats.redraw(seed=0)
    assert torch.equal(before, feats(x))


def test_global_rng_decides_an_unseeded_draw():
    torch.manual_seed(7)
    a = RandomMaclaurinFeatures(8, num_features=64)
    torch.manual_seed(7)
    b = RandomMaclaurinFeatures(8, num_features=64)
    x = torch.randn(3, 8)
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize("bad", [dict(num_features=1), dict(max_degree=0), dict(kernel="rbf")])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        RandomMaclaurinFeatures(8, **bad)


def test_blocks_hold_the_same_features_as_forward():
    feats = RandomMaclaurinFeatures(8, num_features=64, kernel="sqrt", seed=1).double()
    x, y = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 7, 8, dtype=torch.float64)
    bx, by = feats.blocks(x), feats.blocks(y)
    assert len(bx) == 2 and sum(b.shape[-1] for b in bx) == 64
    blockwise = sum(a @ b.transpose(-2, -1) for a, b in zip(bx, by, strict=True))
    torch.testing.assert_close(blockwise, feats(x) @ feats(y).transpose(-2, -1))
    whole = torch.cat(bx, -1)
    torch.testing.assert_close(whole.sort(-1).values, feats(x).sort(-1).values)
