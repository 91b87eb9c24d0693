"""The fused slot product (the GPU path) against the eager grouped reference: features,
whole RMFA forward and gradients, causal and not, every kernel, padding, 16 and 32 bit."""

import pytest
import torch

from macformer.attention import KERNELS, build_attention
from macformer.attention.maclaurin_slots import slot_layout
from macformer.attention.random_maclaurin import RandomMaclaurinFeatures
from macformer.attention.rmfa import FREE_MEMORY_SHARE, chunk_tokens


def full_order(feats: RandomMaclaurinFeatures) -> torch.Tensor:
    """Reference index of each fused feature (the constant stays first)."""
    return torch.cat([torch.zeros(1, dtype=torch.long), 1 + feats.slot_order])


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("num_features", [2, 3, 17, 128])
def test_fused_features_and_gradients_equal_the_reference(kernel, num_features):
    feats = RandomMaclaurinFeatures(8, num_features, kernel, seed=1).double()
    x = (torch.randn(2, 3, 5, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
         * 0.3).requires_grad_()
    fused, reference = feats.forward_fused(x), feats.reference(x)
    order = full_order(feats)
    torch.testing.assert_close(fused, reference[..., order], rtol=1e-12, atol=1e-12)
    g = torch.randn_like(fused)
    (grad_fused,) = torch.autograd.grad((fused * g).sum(), x)
    (grad_reference,) = torch.autograd.grad((reference[..., order] * g).sum(), x)
    torch.testing.assert_close(grad_fused, grad_reference, rtol=1e-12, atol=1e-12)


def test_fused_backward_passes_gradcheck_and_is_exact_at_zero_projections():
    feats = RandomMaclaurinFeatures(4, 24, "exp", max_degree=6, seed=2).double()
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(feats.forward_fused, (x,))
    zero = torch.zeros(2, 4, dtype=torch.float64, requires_grad=True)  # every projection 0
    torch.autograd.gradcheck(feats.forward_fused, (zero,))


def test_slot_layout_uses_every_column_once_and_prefixes_shrink():
    feats = RandomMaclaurinFeatures(4, 200, "exp", seed=3)
    columns, counts, order = slot_layout(feats._groups)
    assert sorted(columns.tolist()) == list(range(int(feats.degrees.sum())))
    assert counts[0] == 199 and list(counts) == sorted(counts, reverse=True)
    degrees = feats.degrees[order]  # fused feature order: descending degree
    assert bool((degrees[:-1] >= degrees[1:]).all())
    assert [int((degrees > i).sum()) for i in range(len(counts))] == list(counts)


def make_pair(kernel, causal, chunk_mb=64.0, **options):
    """(fused, reference): the same draw and parameters, two paths."""
    fused = build_attention("rmfa", head_dim=16, num_heads=2, kernel=kernel, causal=causal, seed=0,
                            path="fused", chunk_mb=chunk_mb, **options)
    reference = build_attention("rmfa", head_dim=16, num_heads=2, kernel=kernel, causal=causal, seed=0,
                                path="reference", **options)
    with torch.no_grad():
        fused.post_scale.gamma.uniform_(0.5, 1.5)  # not all ones, so its gradient means something
    reference.load_state_dict(fused.state_dict())
    return fused, reference


# bf16/fp16 inputs: both paths compute in fp32, so they differ by fp32 rounding only.
TOLERANCE = {torch.float32: 2e-5, torch.bfloat16: 1e-2, torch.float16: 2e-3}


# chunk_mb: 64 keeps these small inputs in one chunk (features kept for the backward);
# 0.5 forces 1024-token chunks (features recomputed, state carried across chunks).
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("causal", [False, True], ids=["noncausal", "causal"])
@pytest.mark.parametrize("dtype", list(TOLERANCE), ids=str)
@pytest.mark.parametrize("chunk_mb", [64.0, 0.5], ids=["whole", "chunked"])
def test_fused_rmfa_equals_the_reference_forward_and_backward(kernel, causal, dtype, chunk_mb):
    fused, reference = make_pair(kernel, causal, chunk_mb=chunk_mb)
    g = torch.Generator().manual_seed(4)
    n = 2100  # three chunks of 1024 when chunked, the last one partial
    q, k, v = (torch.randn(2, 2, n, 16, generator=g).to(dtype).requires_grad_() for _ in range(3))
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, 1500:] = False  # padding, and a length that is no multiple of the causal chunk
    out_fused, out_reference = fused(q, k, v, mask), reference(q, k, v, mask)
    assert out_fused.dtype == dtype
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(out_fused, out_reference, rtol=tol, atol=tol)
    w = torch.randn(out_fused.shape, generator=g).to(dtype)
    inputs = (q, k, v, fused.post_scale.gamma)
    grads_fused = torch.autograd.grad((out_fused * w).float().sum(), inputs)
    grads_reference = torch.autograd.grad((out_reference * w).float().sum(),
                                          (q, k, v, reference.post_scale.gamma))
    for name, a, b in zip("q k v gamma".split(), grads_fused, grads_reference, strict=True):
        assert torch.isfinite(a).all(), name
        torch.testing.assert_close(a, b, rtol=tol, atol=tol * max(1.0, float(b.abs().max())), msg=name)


def test_state_dict_made_on_one_path_loads_on_the_other():
    q, k, v = (torch.randn(2, 2, 30, 16, generator=torch.Generator().manual_seed(5)) for _ in range(3))
    fused = build_attention("rmfa", head_dim=16, num_heads=2, kernel="log", seed=1, path="fused")
    reference = build_attention("rmfa", head_dim=16, num_heads=2, kernel="log", seed=2, path="reference")
    reference.load_state_dict(fused.state_dict())
    torch.testing.assert_close(reference(q, k, v), fused(q, k, v), rtol=2e-5, atol=2e-5)
    other = build_attention("rmfa", head_dim=16, num_heads=2, kernel="log", seed=3, path="fused")
    other.load_state_dict(reference.state_dict())  # and back, onto a third draw
    torch.testing.assert_close(other(q, k, v), fused(q, k, v), rtol=2e-5, atol=2e-5)
    assert fused.state_dict().keys() == reference.state_dict().keys()


def test_auto_picks_the_reference_on_a_cpu():
    feats = RandomMaclaurinFeatures(8, 16, seed=0)
    assert feats.fused is None and not feats.uses_fused(torch.zeros(1, 8))
    assert RandomMaclaurinFeatures(8, 16, seed=0, fused=True).uses_fused(torch.zeros(1, 8))


def test_chunk_size_follows_the_memory_budget():
    attention = build_attention("rmfa", head_dim=32, num_heads=2, seed=0, path="fused", chunk_mb=256.0)
    q = torch.zeros(32, 2, 8192, 32)
    width = 128 + attention.features.weights.shape[1]  # D + Σ N_j floats per token and head
    per_token = 2 * 32 * 2 * width * 4  # q and k
    chunk = attention._chunk_tokens(q)
    assert chunk % 1024 == 0 and chunk * per_token <= 256 * 2**20 < (chunk + 1024) * per_token
    assert build_attention("rmfa", head_dim=32, num_heads=2, seed=0, chunk_mb=0)._chunk_tokens(q) == 8192
    # Without chunk_mb a CPU never chunks (a GPU decides from its free memory).
    assert build_attention("rmfa", head_dim=32, num_heads=2, seed=0, path="fused")._chunk_tokens(q) == 8192


GIB = 2**30


@pytest.mark.parametrize(("batch", "length"), [(32, 2000), (32, 4000), (32, 8000), (256, 1024), (32, 16384)],
                         ids=["listops", "text", "retrieval", "image-pathfinder", "pathx"])
def test_lra_shapes_never_chunk_on_a_16_gb_gpu(batch, length):
    """The decision from free memory: the whole sequence when the features fit the share
    of what is free. A 16 GB card with ~15 GB free never chunks an LRA shape; a card
    with 1 GB free chunks Path-X into whole thousands of tokens."""
    attention = build_attention("rmfa", head_dim=32, num_heads=2, seed=0, path="fused")
    width = 128 + attention.features.weights.shape[1]
    per_token = 2 * batch * 2 * width * 4
    assert chunk_tokens(length, per_token, FREE_MEMORY_SHARE * 15 * GIB) == length
    if length == 16384:
        small = chunk_tokens(length, per_token, FREE_MEMORY_SHARE * 1 * GIB)
        assert 1024 <= small < length and small % 1024 == 0


@pytest.mark.parametrize("bad", [{"path": "fast"}, {"chunk_mb": -1.0}, {"fused": True}])
def test_bad_path_options_name_the_allowed_values(bad):
    with pytest.raises((ValueError, TypeError), match="allowed"):
        build_attention("rmfa", head_dim=8, num_heads=1, **bad)


def test_the_fused_path_under_torch_compile_equals_eager():
    # The compiled form the GPU benchmark times (rmfa-exp-compiled), checked on the CPU
    # with inductor's C++ backend: same outputs and gradients as the eager fused path.
    eager, _ = make_pair("exp", causal=True, chunk_mb=0)
    compiled = torch.compile(eager)
    g = torch.Generator().manual_seed(7)
    q, k, v = (torch.randn(2, 2, 96, 16, generator=g).requires_grad_() for _ in range(3))
    mask = torch.ones(2, 96, dtype=torch.bool)
    mask[1, 60:] = False
    out_eager, out_compiled = eager(q, k, v, mask), compiled(q, k, v, mask)
    torch.testing.assert_close(out_compiled, out_eager, rtol=1e-5, atol=1e-5)
    grads_eager = torch.autograd.grad(out_eager.sum(), (q, k, v))
    grads_compiled = torch.autograd.grad(out_compiled.sum(), (q, k, v))
    for a, b in zip(grads_compiled, grads_eager, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
