"""The Triton path of RMFA against the naive definition (rmf/naive.py): forward and the
gradients of q, k, v and γ, every kernel, causal and not, padding, fp32 and 16-bit inputs.

On a CPU the kernels run in Triton's interpreter (fp32 products, small tiles); with a
GPU the same comparisons run on CUDA at the production tiles and precisions, each in
a subprocess (a faulty kernel can poison the CUDA context of the whole test session).
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from macformer.attention import KERNELS, build_attention
from macformer.attention.rmf.naive import naive_features, naive_rmfa
from macformer.attention.rmf.paths import interpreting, resolve_path, triton_missing
from macformer.attention.rmf.triton_rmfa import KernelConfig

pytestmark = pytest.mark.skipif(triton_missing() is not None, reason="triton is not installed")
# The CPU tests run in Triton's interpreter, on when there is no GPU (conftest.py).
in_interpreter = pytest.mark.skipif(not interpreting(), reason="runs in the Triton interpreter (no GPU)")

CUDA_CHECK = Path(__file__).with_name("triton_cuda_check.py")


def make(kernel, causal, ppsbn=True, num_features=40, head_dim=16, seed=0):
    attention = build_attention("rmfa", head_dim=head_dim, num_heads=2, kernel=kernel, causal=causal,
                                ppsbn=ppsbn, seed=seed, num_features=num_features, path="triton")
    if attention.post_scale is not None:
        with torch.no_grad():
            attention.post_scale.gamma.uniform_(0.5, 1.5)  # not all ones, so its gradient means something
    return attention


def inputs(n, head_dim=16, dtype=torch.float32, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = ((torch.randn(2, 2, n, head_dim, generator=g) * scale).to(dtype).requires_grad_() for _ in range(3))
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, n - n // 3:] = False  # padding that ends inside a chunk
    return q, k, v, mask


def naive_output(attention, q, k, v, mask):
    """The module's output by the naive definition: naive_rmfa, then ppSBN's post-scale γ."""
    out = naive_rmfa(q, k, v, mask, attention.features, ppsbn=attention.ppsbn, causal=attention.causal,
                     denominator_floor=attention.denominator_floor)
    return attention.post_scale(out) if attention.post_scale is not None else out


def compare(attention, q, k, v, mask, tol):
    """The Triton output and gradients against the naive form in float64."""
    out = attention(q, k, v, mask)
    assert out.dtype == q.dtype
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(9))
    params = [attention.post_scale.gamma] if attention.post_scale is not None else []
    grads = torch.autograd.grad((out.float() * w).sum(), [q, k, v, *params])
    naive = attention.double()
    ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
    ref = naive_output(naive, *ref_in, mask)
    ref_params = [naive.post_scale.gamma] if naive.post_scale is not None else []
    ref_grads = torch.autograd.grad((ref * w.double()).sum(), [*ref_in, *ref_params])
    attention.float()
    scale = float(ref.detach().abs().max())
    torch.testing.assert_close(out.double(), ref, rtol=tol, atol=tol * scale)
    for name, a, b in zip("q k v gamma".split(), grads, ref_grads, strict=False):
        assert torch.isfinite(a).all(), name
        torch.testing.assert_close(a.double(), b, rtol=tol, atol=tol * float(b.abs().max()), msg=name)


# The interpreter multiplies in fp32: the two paths differ by fp32 rounding (u = 6e-8)
# summed over D features and N keys, far inside 1e-4. A 16-bit input is the same
# number to both paths (the naive one reads it in float64), but the output and the
# gradients are rounded once to the input's dtype: twice its unit roundoff (bf16 2^-8,
# fp16 2^-11) bounds that.
@in_interpreter
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("causal", [False, True], ids=["noncausal", "causal"])
def test_triton_equals_the_naive_form(kernel, causal):
    compare(make(kernel, causal), *inputs(37), tol=1e-4)


@in_interpreter
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_triton_takes_16_bit_inputs(dtype):
    unit = {torch.bfloat16: 2**-8, torch.float16: 2**-11}[dtype]
    compare(make("exp", causal=True), *inputs(21, dtype=dtype), tol=2 * unit)


@in_interpreter
def test_triton_without_ppsbn_and_with_several_feature_tiles():
    # 70 features: five tiles of 16 in the interpreter, the last one padded; no ppSBN.
    attention = make("inverse", causal=True, ppsbn=False, num_features=70, head_dim=32)
    compare(attention, *inputs(20, head_dim=32, scale=0.3), tol=1e-4)


@in_interpreter
def test_triton_features_equal_the_naive_feature_map():
    """The tables' φ (constant first, descending degree) is the naive φ reordered."""
    attention = make("sqrt", causal=False, num_features=50)
    tables = attention.features.triton_tables(16)
    x = torch.randn(7, 16, generator=torch.Generator().manual_seed(3)).double() * 0.2
    phi = torch.ones(7, tables.padded, dtype=torch.float64)
    for i in range(tables.signs.shape[0]):
        phi = phi * (x @ tables.signs[i].double() + tables.bias[i].double())
    phi = phi * tables.scale.double()
    naive = naive_features(attention.features.double(), x)
    gram, naive_gram = phi @ phi.t(), naive @ naive.t()  # order-free: φ(x)·φ(y)
    torch.testing.assert_close(gram, naive_gram, rtol=1e-12, atol=1e-12)


@in_interpreter
def test_triton_backward_is_exact_where_a_projection_is_zero():
    """Zero rows (as padding gives) make every factor 0: the gradient must stay finite
    and equal the naive one, which the zero-count backward gives without division."""
    attention = make("exp", causal=True)
    q, k, v, mask = inputs(18)
    with torch.no_grad():
        q[:, :, 3] = 0.0
        k[:, :, 5] = 0.0
    compare(attention, q, k, v, mask, tol=1e-4)


def test_path_resolution(caplog):
    assert resolve_path("auto", is_cuda=False, head_dim=32) == "reference"
    assert resolve_path("reference", is_cuda=True, head_dim=32) == "reference"
    if interpreting():
        assert resolve_path("triton", is_cuda=False, head_dim=32) == "triton"
    assert resolve_path("auto", is_cuda=True, head_dim=32) == "triton"
    assert resolve_path("auto", is_cuda=True, head_dim=24) == "reference"  # falls back, saying why
    assert "falls back to the reference path" in caplog.text and "got 24" in caplog.text
    with pytest.raises(ValueError, match="power of two.*allowed values"):
        resolve_path("triton", is_cuda=True, head_dim=24)


def test_the_cpu_config_is_the_interpreters():
    config = KernelConfig.for_device(torch.device("cpu"))
    assert config.att == "ieee" and not config.proj_bf16


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kernel", KERNELS)
def test_triton_on_cuda_equals_the_naive_form(kernel):
    result = subprocess.run([sys.executable, str(CUDA_CHECK), kernel], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@in_interpreter
def test_a_state_dict_moves_between_paths():
    """The draw is module state: a checkpoint made on one path gives the same output on the other."""
    q, k, v, mask = inputs(24)
    triton = make("log", causal=True, seed=1)
    reference = build_attention("rmfa", head_dim=16, num_heads=2, kernel="log", causal=True, seed=2,
                                num_features=40, path="reference")
    reference.load_state_dict(triton.state_dict())
    torch.testing.assert_close(reference(q, k, v, mask), triton(q, k, v, mask), rtol=1e-4, atol=1e-5)
    assert triton.last_path == "triton" and reference.last_path == "reference"


@pytest.mark.parametrize("bad", [{"path": "fast"}, {"fused": True}, {"chunk_mb": 32}])
def test_bad_path_options_name_the_allowed_values(bad):
    with pytest.raises(ValueError, match="allowed"):
        build_attention("rmfa", head_dim=8, num_heads=1, **bad)
