"""RMFA's paths share one signature (rmf/paths.py): the reference path against the naive
definition (rmf/naive.py), called the same way, output and the gradients of q, k, v, for
every kernel, causal and not, with padding. Runs without Triton (the Triton path's own
comparisons: test_rmfa_triton.py)."""

import pytest
import torch

from macformer.attention import KERNELS
from macformer.attention.rmf import PATHS, rmfa_reference
from macformer.attention.rmf.naive import naive_rmfa
from macformer.attention.rmf.random_maclaurin import RandomMaclaurinFeatures


def inputs(n=19, head_dim=8, scale=1.0):
    g = torch.Generator().manual_seed(0)
    q, k, v = ((torch.randn(2, 2, n, head_dim, generator=g, dtype=torch.float64) * scale).requires_grad_()
               for _ in range(3))
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, n - n // 3:] = False
    return q, k, v, mask


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("causal", [False, True], ids=["noncausal", "causal"])
@pytest.mark.parametrize("ppsbn", [True, False], ids=["ppsbn", "no-ppsbn"])
def test_the_reference_path_equals_the_naive_form(kernel, causal, ppsbn):
    features = RandomMaclaurinFeatures(8, 30, kernel, seed=1).double()
    q, k, v, mask = inputs(scale=1.0 if ppsbn else 0.3)  # without ppSBN, inside every kernel's radius
    options = dict(ppsbn=ppsbn, causal=causal, denominator_floor=1.0)
    out, ref = PATHS["reference"](q, k, v, mask, features, **options), naive_rmfa(q, k, v, mask, features, **options)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    grads = torch.autograd.grad((out * w).sum(), (q, k, v))
    ref_grads = torch.autograd.grad((ref * w).sum(), (q, k, v))
    for name, a, b in zip("qkv", grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)


def test_the_reference_path_refuses_inputs_outside_the_radius_without_ppsbn():
    features = RandomMaclaurinFeatures(8, 30, "inverse", seed=1)
    q, k, v, mask = (t.detach().float() if t.is_floating_point() else t for t in inputs(scale=3.0))
    with pytest.raises(ValueError, match="radius of convergence"):
        rmfa_reference(q, k, v, mask, features, ppsbn=False, causal=True, denominator_floor=1.0)
