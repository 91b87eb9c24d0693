"""Fused RMFA on Triton: ppSBN pre-scaling, random Maclaurin features, the key-value
state (or the chunked causal state) and the normalised output; only q, k, v, the output,
their gradients and the small per-chunk states touch global memory.

Kernels: a state pass over the keys and an output pass over query chunks forward; a
state pass over the queries, then a query pass and a key pass backward.

`rmfa_triton` has the signature of the reference path's `rmfa_reference` (reference.py)
and returns the output before ppSBN's post-scale γ, num / max(den, floor) in fp32; the
caller applies γ (one elementwise product). `run_kernels` runs them at a given tiling.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import torch

from ..scaling import check_qk_radius
from .feature_tables import FeatureTables

_EPS = 1e-6  # ppSBN's, as in ppsbn.pre_scale


@dataclass(frozen=True)
class KernelConfig:
    """Tile sizes and precisions. Tokens per chunk `block`, features per tile
    `feature_block` (both ≥ 16, powers of two); `proj_bf16` projects with a hi/lo bf16
    split (a GPU's tensor cores; the CPU interpreter needs False); `att` is the
    precision of the attention products: ieee | bf16x3 | bf16.

    The GPU default is the fastest tiling measured on an H200 (triton 3.6) among those
    that passed the CUDA check (benchmarks/triton_tuning.py, tests/attention/
    triton_cuda_check.py): at N = 4096, batch 32, 32-token chunks with 4 warps took
    3.7 / 5.7 ms (non-causal / causal, forward + backward) against 4.7 / 6.4 ms for
    64-token chunks with 8 warps; 64-token chunks with 4 warps were faster still but
    gave a wrong causal dq on that compiler, so they are not used. `att="bf16"` (one
    bf16 product) was faster too, but its error reached 0.4 of the estimator's own
    standard deviation at the 99th percentile, against 7e-4 for bf16x3
    (benchmarks/rmfa_precision.py): the products keep hi/lo bf16 splits."""

    block: int = 32
    feature_block: int = 32
    proj_bf16: bool = True
    att: str = "bf16x3"
    num_warps: int = 4
    backward_warps: int = 4

    @staticmethod
    def for_device(device: torch.device) -> KernelConfig:
        if device.type == "cuda":
            return KernelConfig.from_env()
        # The CPU interpreter: fp32 products (its bf16 products are not exact), small tiles.
        return KernelConfig(block=16, feature_block=16, proj_bf16=False, att="ieee", num_warps=1,
                            backward_warps=1)

    def chunks(self, n: int) -> int:
        """Chunks of `block` tokens covering n tokens (the last one padded)."""
        return -(-n // self.block)

    @staticmethod
    def from_env() -> KernelConfig:
        """The GPU default, or the fields of $MACFORMER_TRITON_CONFIG (e.g. "block=32,att=bf16"):
        a hook for benchmarks that compare tilings."""
        return KernelConfig.parse(os.environ.get("MACFORMER_TRITON_CONFIG", ""))

    @staticmethod
    def parse(spec: str) -> KernelConfig:
        """"block=32,att=bf16" -> the default with those fields changed."""
        fields = {f.name: f.type for f in dataclasses.fields(KernelConfig)}
        values = {}
        for item in filter(None, spec.split(",")):
            key, _, value = item.partition("=")
            if key not in fields:
                raise ValueError(f"MACFORMER_TRITON_CONFIG: unknown field {key!r}; allowed: {', '.join(fields)}")
            values[key] = value == "True" if key == "proj_bf16" else value if key == "att" else int(value)
        return KernelConfig(**values)


def rmfa_triton(q, k, v, key_padding_mask, features, *, ppsbn: bool, causal: bool,
                denominator_floor: float) -> torch.Tensor:
    """q, k, v: [B, H, N, d]; key_padding_mask: [B, N] bool (True = real) or None; features:
    the draw (a RandomMaclaurinFeatures) -> [B, H, N, d] fp32, at this device's tiling."""
    if not ppsbn:  # the kernels scale by d^-1/4 themselves: check the radius on what they see
        check_qk_radius(features.kernel, q, k, key_padding_mask, scale=q.shape[-1] ** -0.25)
    config = KernelConfig.for_device(q.device)
    return run_kernels(q, k, v, key_padding_mask, features.triton_tables(config.feature_block), ppsbn=ppsbn,
                       causal=causal, denominator_floor=denominator_floor, config=config)


def run_kernels(q, k, v, key_padding_mask, tables: FeatureTables, *, ppsbn: bool, causal: bool,
                denominator_floor: float, config: KernelConfig | None = None) -> torch.Tensor:
    """rmfa_triton on the draw's tables at the tiling `config` (default: this device's),
    with no radius check: for benchmarks that compare tilings."""
    config = config or KernelConfig.for_device(q.device)
    return _RMFA.apply(q, k, v, key_padding_mask, tables, ppsbn, causal, float(denominator_floor), config)


def _launch_state(x, vals, z, mask_v, H, tables, ppsbn, causal, reverse, config):
    """Σ_j φ(x_j)ᵀ vals_j and Σ_j φ(x_j) z_j: in total, or (causal) for each chunk over the
    chunks before it (after it, in `reverse`). Each chunk's own sum comes from the kernel,
    all chunks in parallel; the sums over chunks are one torch reduction or prefix sum."""
    from .triton_kernels import _state_kernel
    BH, N, d = x.shape
    NC = config.chunks(N)
    local = x.new_empty(BH, NC, tables.padded, d, dtype=torch.float32)
    zlocal = x.new_empty(BH, NC, tables.padded, dtype=torch.float32)
    _state_kernel[(BH, tables.num_tiles, NC)](
        x, vals, z, local, zlocal, *tables.pointers(), N, H, NC, tables.padded,
        D_HEAD=d, BLK=config.block, BD=config.feature_block, SCALE=d ** -0.25, PPSBN=ppsbn, EPS=_EPS,
        MASK_V=mask_v, PROJ_BF16=config.proj_bf16, ATT=config.att, num_warps=config.num_warps)
    if not causal:
        return local.sum(1), zlocal.sum(1)  # [BH, DP, d], [BH, DP]
    return _exclusive(local, reverse), _exclusive(zlocal, reverse)


def _exclusive(local: torch.Tensor, reverse: bool) -> torch.Tensor:
    """Per chunk, the sum over the chunks before it (after it when `reverse`), in place of
    `local`, [BH, NC, ...]: inclusive prefix sum, minus the chunk (or from the total)."""
    inclusive = local.cumsum(1)
    if reverse:
        return torch.sub(inclusive[:, -1:], inclusive, out=local)
    return torch.sub(inclusive, local, out=local)


class _RMFA(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, tables, ppsbn, causal, floor, config):
        from .triton_kernels import _output_kernel
        B, H, N, d = q.shape
        q3, k3, v3 = (t.reshape(B * H, N, d).contiguous() for t in (q, k, v))  # [BH, N, d]
        m = (mask.to(torch.float32) if mask is not None
             else q.new_ones(B, N, dtype=torch.float32)).contiguous()  # [B, N]
        tables = tables.ready(config.feature_block, q.device)
        state, zstate = _launch_state(k3, v3, m, True, H, tables, ppsbn, causal, False, config)
        NC = config.chunks(N)
        out = q3.new_empty(B * H, N, d, dtype=torch.float32)
        den = q3.new_empty(B * H, N, dtype=torch.float32)
        _output_kernel[(B * H, NC)](
            q3, k3, v3, m, state, zstate, out, den, *tables.pointers(), N, H, NC, tables.padded,
            tables.num_tiles, floor, D_HEAD=d, BLK=config.block, BD=config.feature_block,
            SCALE=d ** -0.25, PPSBN=ppsbn, EPS=_EPS, CAUSAL=causal, PROJ_BF16=config.proj_bf16,
            ATT=config.att, num_warps=config.num_warps)
        ctx.save_for_backward(q3, k3, v3, m, state, zstate, out, den)
        ctx.tables, ctx.ppsbn, ctx.causal, ctx.floor, ctx.config = tables, ppsbn, causal, floor, config
        ctx.shape, ctx.dtypes = (B, H, N, d), (q.dtype, k.dtype, v.dtype)
        return out.view(B, H, N, d)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        from .triton_backward import _backward_kv_kernel, _backward_q_kernel
        q3, k3, v3, m, state, zstate, out, den = ctx.saved_tensors
        B, H, N, d = ctx.shape
        config, tables = ctx.config, ctx.tables
        # out = num / max(den, floor): the gradients reaching num and den, [BH, N, d] and [BH, N].
        g = grad_out.reshape(B * H, N, d).to(torch.float32)
        den_c = den.clamp(min=ctx.floor)
        gn = (g / den_c[..., None]).contiguous()
        gd = (-(gn * out).sum(-1) * (den > ctx.floor)).contiguous()
        rstate, rzstate = _launch_state(q3, gn, gd, False, H, tables, ctx.ppsbn, ctx.causal, True, config)
        NC = config.chunks(N)
        dq, dk, dv = (torch.empty(B * H, N, d, dtype=dt, device=q3.device) for dt in ctx.dtypes)
        common = dict(D_HEAD=d, BLK=config.block, BD=config.feature_block, SCALE=d ** -0.25, PPSBN=ctx.ppsbn,
                      EPS=_EPS, CAUSAL=ctx.causal, PROJ_BF16=config.proj_bf16, ATT=config.att,
                      num_warps=config.backward_warps)
        sizes = (N, H, NC, tables.padded, tables.num_tiles)
        _backward_q_kernel[(B * H, NC)](q3, k3, v3, m, gn, gd, state, zstate, dq, *tables.pointers(), *sizes,
                                        **common)
        _backward_kv_kernel[(B * H, NC)](q3, k3, v3, m, gn, gd, rstate, rzstate, dk, dv, *tables.pointers(),
                                         *sizes, **common)
        shape = (B, H, N, d)
        return dq.view(shape), dk.view(shape), dv.view(shape), None, None, None, None, None, None


def supported(head_dim: int) -> bool:
    """The kernels tile the head dimension whole: a power of two from 16 to 128."""
    return 16 <= head_dim <= 128 and math.log2(head_dim).is_integer()
