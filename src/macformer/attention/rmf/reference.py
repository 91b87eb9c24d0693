"""RMFA's reference path, in PyTorch: ppSBN pre-scaling, the grouped feature map
(grouped_features.py) and linear attention (attention/linear_attention.py), in at least
fp32. The CPU's path (fewest copies; launches cost little there), and a GPU's when
Triton cannot run.

`rmfa_reference` has the signature of the Triton path's `rmfa_triton`
(triton_rmfa.py), so rmfa.py picks either from paths.PATHS with one call; both return
the output before ppSBN's post-scale γ, which the caller applies.
"""

from __future__ import annotations

import torch

from ..linear_attention import at_least_float32, linear_attention
from ..scaling import check_qk_radius, scale_queries_keys


def rmfa_reference(q, k, v, key_padding_mask, features, *, ppsbn: bool, causal: bool,
                   denominator_floor: float) -> torch.Tensor:
    """q, k, v: [B, H, N, d]; key_padding_mask: [B, N] bool (True = real) or None; features:
    the draw (a RandomMaclaurinFeatures) -> [B, H, N, d], fp32 (float64 for float64 inputs)."""
    q, k, v = at_least_float32(q, k, v)
    q, k = scaled_queries_keys(q, k, key_padding_mask, features.kernel, ppsbn)
    return linear_attention(features.blocks(q), features.blocks(k), v, key_padding_mask, causal=causal,
                            denominator_floor=denominator_floor)


def scaled_queries_keys(q, k, key_padding_mask, kernel: str, ppsbn: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """q, k as the feature map sees them (ppSBN pre-scaling when on, × d^-1/4); without
    ppSBN, refused where q·k may leave the kernel's radius of convergence."""
    q, k = scale_queries_keys(q, k, ppsbn=ppsbn)
    if not ppsbn:
        check_qk_radius(kernel, q, k, key_padding_mask)
    return q, k
