"""One suite over every registered attention (so a new variant gets every test), then
the tests specific to each variant."""

import math

import pytest
import torch

from macformer.attention import (
    ATTENTIONS,
    KERNEL_ATTENTIONS,
    KERNELS,
    attention_options,
    build_attention,
)
from macformer.attention.kernels import kernel_value
from macformer.attention.linear_attention import linear_attention
from macformer.attention.scaling import scale_queries_keys


def variants():
    """Every registered attention, and every kernel of those that take one."""
    out = []
    for name in ATTENTIONS:
        if name in KERNEL_ATTENTIONS:
            out += [(name, {"kernel": k}) for k in KERNELS]
        else:
            out.append((name, {}))
    return out


VARIANTS = variants()
IDS = [f"{n}-{o.get('kernel', '')}".rstrip("-") for n, o in VARIANTS]


def make(name, options, head_dim=16, num_heads=2, seed=0):
    if "seed" in attention_options(name):
        options = {**options, "seed": seed}
    return build_attention(name, head_dim=head_dim, num_heads=num_heads, **options)


def qkv(batch=2, heads=2, seq=40, dim=16, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, heads, seq, dim, generator=g, dtype=dtype) for _ in range(3)]


def padding_mask(batch=2, seq=40):
    mask = torch.ones(batch, seq, dtype=torch.bool)
    mask[1, seq // 2 :] = False
    return mask


def test_every_required_name_is_registered():
    assert {"softmax", "kernelized", "rmfa", "rfa"} <= set(ATTENTIONS)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_shape_and_finite(name, options):
    q, k, v = qkv()
    out = make(name, options)(q, k, v, padding_mask())
    assert out.shape == q.shape and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_padding_keys_have_no_influence(name, options):
    attn = make(name, options)
    q, k, v = qkv()
    mask = padding_mask()
    out = attn(q, k, v, mask)
    k2, v2 = k.clone(), v.clone()
    k2[1, :, 20:] = 50 * torch.randn_like(k2[1, :, 20:])
    v2[1, :, 20:] = 1e4
    out2 = attn(q, k2, v2, mask)
    torch.testing.assert_close(out2[1, :, :20], out[1, :, :20], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out2[0], out[0])


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_padded_batch_row_equals_the_unpadded_sequence(name, options):
    attn = make(name, options)
    q, k, v = qkv()
    out = attn(q, k, v, padding_mask())
    alone = attn(q[1:, :, :20], k[1:, :, :20], v[1:, :, :20])
    torch.testing.assert_close(out[1:, :, :20], alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_state_dict_round_trip_across_seeds(name, options):
    source, target = make(name, options, seed=1), make(name, options, seed=2)
    for p in source.parameters():  # make learned parameters differ from their init
        p.data.uniform_(0.5, 1.5)
    q, k, v = qkv()
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target(q, k, v, padding_mask()), source(q, k, v, padding_mask()), rtol=0, atol=0)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_finite_gradients_at_4096_tokens(name, options):
    attn = make(name, options, head_dim=32)
    q, k, v = (t.requires_grad_() for t in qkv(batch=1, seq=4096, dim=32))
    mask = torch.ones(1, 4096, dtype=torch.bool)
    mask[0, 3000:] = False
    attn(q, k, v, mask)[:, :, :3000].pow(2).mean().backward()
    for t in (q, k, v, *attn.parameters()):
        assert t.grad is not None and bool(torch.isfinite(t.grad).all())
    assert float(q.grad.abs().sum()) > 0 and float(v.grad.abs().sum()) > 0


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_deterministic_for_a_seed(name, options):
    q, k, v = qkv()
    torch.testing.assert_close(make(name, options)(q, k, v), make(name, options)(q, k, v), rtol=0, atol=0)


def test_unknown_names_and_options_are_refused():
    with pytest.raises(ValueError, match=r"unknown attention 'flash'.*allowed attentions:.*rmfa.*softmax"):
        build_attention("flash", head_dim=8, num_heads=2)
    with pytest.raises(ValueError, match=r"unknown kernel 'rbf'.*exp, inverse, log, trigh, sqrt"):
        build_attention("rmfa", head_dim=8, num_heads=2, kernel="rbf")
    with pytest.raises(ValueError, match=r"unknown kernel 'rbf'"):
        build_attention("kernelized", head_dim=8, num_heads=2, kernel="rbf")
    with pytest.raises(ValueError, match=r"attention 'softmax' has no option\(s\) 'kernel'"):
        build_attention("softmax", head_dim=8, num_heads=2, kernel="exp")
    with pytest.raises(ValueError, match=r"'num_feature'.*allowed options:.*num_features"):
        build_attention("rmfa", head_dim=8, num_heads=2, num_feature=64)


# --- softmax ---------------------------------------------------------------------------

def reference_softmax(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
    return torch.softmax(scores, -1) @ v


@pytest.mark.parametrize("name", ["softmax", "softmax_materialized"])
def test_softmax_matches_plain_reference(name):
    q, k, v = qkv(dtype=torch.float64)
    out = build_attention(name, head_dim=16, num_heads=2)(q, k, v, padding_mask())
    torch.testing.assert_close(out, reference_softmax(q, k, v, padding_mask()))


# --- kernelized and RMFA ---------------------------------------------------------------

def reference_kernelized(kernel, q, k, v, mask):
    q, k = scale_queries_keys(q, k, ppsbn=True)
    w = kernel_value(kernel, q @ k.transpose(-2, -1)) * mask[:, None, None, :]
    return (w / w.sum(-1, keepdim=True)) @ v


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernelized_matches_plain_reference(kernel):
    q, k, v = qkv(dtype=torch.float64)
    out = build_attention("kernelized", head_dim=16, num_heads=2, kernel=kernel)(q, k, v, padding_mask())
    torch.testing.assert_close(out, reference_kernelized(kernel, q, k, v, padding_mask()))


def test_ppsbn_keeps_dot_products_inside_the_radius():
    q, k, _ = qkv(dim=32)
    q, k = scale_queries_keys(100 * q + 3, k - 7, ppsbn=True)
    assert float((q @ k.transpose(-2, -1)).abs().max()) <= 32**-0.5 + 1e-6
    torch.testing.assert_close(q.mean(-1), torch.zeros(q.shape[:-1]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_rmfa_approaches_kernelized_as_features_grow(kernel):
    q, k, v = qkv(seq=128, dim=16, seed=3)
    mask = padding_mask(seq=128)
    exact = build_attention("kernelized", head_dim=16, num_heads=2, kernel=kernel)(q, k, v, mask)

    def error(D):
        errs = []
        for seed in range(4):
            out = build_attention("rmfa", head_dim=16, num_heads=2, kernel=kernel, num_features=D,
                                  seed=seed)(q, k, v, mask)
            errs.append(float((out - exact).norm() / exact.norm()))
        return sum(errs) / len(errs)

    # Monte-Carlo error falls like D^-1/2: at D=512 it is √(16/512) ≈ 0.18 of D=16's.
    assert error(512) < 0.4 * error(16)


@pytest.mark.parametrize("kernel", ["inverse", "log", "sqrt"])
@pytest.mark.parametrize("name", ["rmfa", "kernelized"])
def test_outside_radius_without_ppsbn_is_a_clear_error(name, kernel):
    attn = build_attention(name, head_dim=16, num_heads=2, kernel=kernel, ppsbn=False)
    q, k, v = qkv()
    with pytest.raises(ValueError, match=rf"kernel '{kernel}' has radius of convergence 1"):
        attn(q * 10, k * 10, v)
    small = attn(q * 0.05, k * 0.05, v)  # |q·k| well inside the radius: fine
    assert bool(torch.isfinite(small).all())


@pytest.mark.parametrize("kernel", ["exp", "trigh"])
def test_infinite_radius_kernels_run_without_ppsbn(kernel):
    q, k, v = qkv()
    for name in ("rmfa", "kernelized"):
        out = build_attention(name, head_dim=16, num_heads=2, kernel=kernel, ppsbn=False)(q, k, v)
        assert bool(torch.isfinite(out).all())


def test_denominator_guard_clamps_negative_estimates():
    """Signed random features can give a negative or zero denominator: it is clamped
    at `denominator_floor`, so the output stays finite and equals numerator / floor."""
    phi_q = torch.tensor([[[[1.0, -1.0]]]])  # [1, 1, 1, 2]
    phi_k = torch.tensor([[[[0.5, 2.0]]]])  # φq·φk = -1.5 < 0
    v = torch.tensor([[[[3.0]]]])
    out = linear_attention(phi_q, phi_k, v, denominator_floor=1.0)
    torch.testing.assert_close(out, torch.tensor([[[[-4.5]]]]))
    out = linear_attention(phi_q, phi_k * 0, v, denominator_floor=0.5)  # zero denominator
    torch.testing.assert_close(out, torch.zeros(1, 1, 1, 1))


def test_rmfa_with_few_features_stays_finite():
    q, k, v = qkv(seq=64)
    for seed in range(20):
        out = build_attention("rmfa", head_dim=16, num_heads=2, kernel="inverse", num_features=4,
                              seed=seed)(q, k, v, padding_mask(seq=64))
        assert bool(torch.isfinite(out).all())


def test_ppsbn_post_scale_is_learned_and_starts_at_one():
    attn = build_attention("rmfa", head_dim=16, num_heads=2)
    assert torch.equal(attn.post_scale.gamma.detach(), torch.ones(2, 1, 16))
    q, k, v = qkv()
    attn(q, k, v).sum().backward()
    assert attn.post_scale.gamma.grad is not None
    assert not any(True for _ in build_attention("rmfa", head_dim=16, num_heads=2, ppsbn=False).parameters())
    powered = build_attention("rmfa", head_dim=16, num_heads=2, ppsbn_power=True)
    assert powered.post_scale.beta is not None and float(powered.post_scale.beta) == 1.0


def test_rmfa_and_kernelized_share_parameters():
    """An RMFA checkpoint loads into exact kernelized attention (its D → ∞ limit)."""
    rmfa = build_attention("rmfa", head_dim=16, num_heads=2, kernel="log")
    exact = build_attention("kernelized", head_dim=16, num_heads=2, kernel="log")
    rmfa.post_scale.gamma.data.fill_(2.0)
    missing, unexpected = exact.load_state_dict(rmfa.state_dict(), strict=False)
    assert not missing and all(key.startswith("features.") for key in unexpected)
    assert float(exact.post_scale.gamma.mean()) == 2.0


# --- RFA -------------------------------------------------------------------------------

def test_rfa_approximates_exp_kernel_attention_on_unit_vectors():
    q, k, v = qkv(seq=64, dim=16, seed=5, dtype=torch.float64)
    q, k = torch.nn.functional.normalize(q, dim=-1), torch.nn.functional.normalize(k, dim=-1)
    sigma = 1.5
    w = torch.exp(q @ k.transpose(-2, -1) / sigma**2)
    exact = (w / w.sum(-1, keepdim=True)) @ v

    def error(D):
        errs = []
        for seed in range(4):
            out = build_attention("rfa", head_dim=16, num_heads=2, num_features=D, sigma=sigma,
                                  seed=seed).double()(q, k, v)
            errs.append(float((out - exact).norm() / exact.norm()))
        return sum(errs) / len(errs)

    assert error(4096) < 0.05
    assert error(4096) < 0.4 * error(64)


# --- causal forms ----------------------------------------------------------------------

CAUSAL = [("rmfa", {"kernel": "exp"}), ("rmfa", {"kernel": "sqrt"}), ("rfa", {}), ("performer", {}),
          ("kernelized", {"kernel": "exp"}), ("kernelized", {"kernel": "inverse"})]


@pytest.mark.parametrize("name,options", CAUSAL, ids=[f"{n}-{o}" for n, o in CAUSAL])
@pytest.mark.parametrize("seq", [1, 63, 64, 150])
def test_causal_matches_masked_quadratic_reference(name, options, seq):
    attn = make(name, {**options, "causal": True}).double()
    q, k, v = qkv(seq=seq, dtype=torch.float64)
    mask = torch.ones(2, seq, dtype=torch.bool)
    mask[1, seq // 2 + 1 :] = False
    out = attn(q, k, v, mask)
    # Reference: the same feature maps, an explicit lower-triangular N×N sum.
    floor = 1e-6
    if name == "kernelized":
        qs, ks = scale_queries_keys(q, k, ppsbn=True)
        scores = kernel_value(options["kernel"], qs @ ks.transpose(-2, -1))
        scores = scores.tril() * mask[:, None, None, :]
        expected = attn.post_scale(scores @ v / scores.sum(-1, keepdim=True))
        torch.testing.assert_close(out, expected)
        return
    if name == "rmfa":
        qs, ks = scale_queries_keys(q, k, ppsbn=True)
        pq, pk = attn.features(qs), attn.features(ks)
        floor = attn.denominator_floor
    elif name == "rfa":
        nq, nk = (torch.nn.functional.normalize(t, dim=-1) for t in (q, k))
        pq, pk = attn.feature_map(nq), attn.feature_map(nk)
        # The true denominator's lower bound: (real keys up to i) · e^{-2/σ²}.
        floor = (mask.double().cumsum(-1) * math.exp(-2.0))[:, None, :, None].clamp_min(1e-300)
    else:
        s = 16**-0.25
        pq, pk = attn.feature_map(q * s, True), attn.feature_map(k * mask[:, None, :, None] * s, False)
    scores = (pq @ pk.transpose(-2, -1)).tril() * mask[:, None, None, :]
    num, den = scores @ v, scores.sum(-1, keepdim=True)
    expected = num / torch.maximum(den, torch.as_tensor(floor, dtype=den.dtype))
    if name == "rmfa":
        expected = attn.post_scale(expected)
    torch.testing.assert_close(out, expected)


def test_causal_output_ignores_the_future():
    attn = build_attention("rmfa", head_dim=16, num_heads=2, causal=True, seed=0)
    q, k, v = qkv(seq=100)
    out = attn(q, k, v)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 70:] += 5
    v2[:, :, 70:] -= 3
    torch.testing.assert_close(attn(q, k2, v2)[:, :, :70], out[:, :, :70])


# --- explicit weights (diagnostics) and half precision -----------------------------------

@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_weights_are_what_the_forward_applies(name, options, causal):
    """`attention_weights` (used by the diagnostics) times v is the forward's output."""
    if causal and "causal" not in attention_options(name):
        pytest.skip(f"{name} has no causal form")
    options = {**options, **({"causal": True} if causal else {})}
    attn = make(name, options).double().eval()
    q, k, v = qkv(seq=37, dtype=torch.float64)
    mask = padding_mask(seq=37)
    out = attn(q, k, v, mask)
    weights = attn.attention_weights(q, k, mask)
    expected = weights @ v
    if getattr(attn, "post_scale", None) is not None:
        expected = attn.post_scale(expected)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_float16_inputs_never_give_inf_or_nan(name, options):
    """Keys anti-aligned with the queries drive signed random-feature denominators to
    ≤ 0 for some draws; over many draws no variant may return inf or NaN in float16."""
    for seed in range(40):
        g = torch.Generator().manual_seed(seed)
        q = torch.randn(2, 2, 48, 16, generator=g)
        k = -q + 0.05 * torch.randn(2, 2, 48, 16, generator=g)  # k ≈ −q
        v = 10 * torch.randn(2, 2, 48, 16, generator=g)
        attn = make(name, options, seed=seed)
        out = attn(q.half(), k.half(), v.half(), padding_mask(seq=48))
        assert out.dtype == torch.float16
        assert bool(torch.isfinite(out).all()), f"{name} seed {seed}: inf/NaN in float16"


def test_rfa_floor_bounds_the_output_for_every_draw():
    """With the true-denominator floor, |out| ≤ e^{2/σ²}·max|v| whatever the draw."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(4, 2, 64, 16, generator=g)
    k, v = -q, torch.randn(4, 2, 64, 16, generator=g)
    worst = 0.0
    for seed in range(50):
        out = build_attention("rfa", head_dim=16, num_heads=2, num_features=8, seed=seed)(q, k, v)
        worst = max(worst, float(out.abs().max() / v.abs().max()))
    assert worst <= math.exp(2.0) + 1e-4
    # The old constant floor of 1e-6 let some draw explode far beyond that bound.
    blown = max(float(build_attention("rfa", head_dim=16, num_heads=2, num_features=8, seed=s,
                                      denominator_floor=1e-6)(q, k, v).abs().max()) for s in range(50))
    assert blown > 100 * math.exp(2.0) * float(v.abs().max())
