"""The Triton path on CUDA, at the production tiles and precisions, against the naive
form in float64: `python triton_cuda_check.py KERNEL`. Exits non-zero on a mismatch.
Run in its own process by test_rmfa_triton.py (a faulty kernel can poison a CUDA context)."""

import math
import sys

import torch

from macformer.attention import build_attention
from macformer.attention.rmf.naive import naive_rmfa
from macformer.attention.rmf.triton_rmfa import KernelConfig

# Unit roundoff of the products at each attention precision: the hi/lo bf16 splits keep
# about 16 bits; one bf16 product 8.
UNIT = {"ieee": 2**-23, "bf16x3": 2**-16, "bf16": 2**-8}


def check(kernel: str, causal: bool, dtype: torch.dtype, n: int = 300) -> list[str]:
    device = torch.device("cuda")
    attention = build_attention("rmfa", head_dim=32, num_heads=2, kernel=kernel, causal=causal, seed=0,
                                num_features=128).to(device)
    with torch.no_grad():
        attention.post_scale.gamma.uniform_(0.5, 1.5)
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 2, n, 32, generator=g).to(device, dtype).requires_grad_() for _ in range(3))
    assert attention.path_for(q) == "triton"
    mask = torch.ones(3, n, dtype=torch.bool, device=device)
    mask[1, 211:] = False
    mask[2, 64:] = False
    out = attention(q, k, v, mask)
    w = torch.randn(out.shape, generator=g).to(device)
    grads = torch.autograd.grad((out.float() * w).sum(), (q, k, v, attention.post_scale.gamma))
    attention.double()
    ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
    ref = attention.post_scale(naive_rmfa(*ref_in, mask, attention.features, ppsbn=attention.ppsbn,
                                          causal=attention.causal, denominator_floor=attention.denominator_floor))
    ref_grads = torch.autograd.grad((ref * w.double()).sum(), (*ref_in, attention.post_scale.gamma))
    # Errors of D = 128 products add up like a random walk: √D units, with a margin of 8;
    # a 16-bit result is rounded once more to its dtype.
    unit = UNIT[KernelConfig.for_device(device).att]
    tol = 8 * math.sqrt(128) * unit + (2 * 2**-8 if dtype == torch.bfloat16 else 0.0)
    failures = []
    for name, a, b in zip(["out", "q", "k", "v", "gamma"], [out, *grads], [ref, *ref_grads], strict=True):
        err = float((a.double() - b).abs().max() / b.abs().max().clamp(min=1e-30))
        ok = bool(torch.isfinite(a).all()) and err <= tol
        print(f"{kernel:8} causal={causal!s:5} {str(dtype):15} {name:6} max error / max {err:.2e} (tol {tol:.1e})"
              f" {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{kernel} causal={causal} {dtype} {name}")
    return failures


def main(kernel: str) -> int:
    failures = []
    for causal in (False, True):
        for dtype in (torch.float32, torch.bfloat16):
            failures += check(kernel, causal, dtype)
    print("FAILED: " + ", ".join(failures) if failures else "all ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
