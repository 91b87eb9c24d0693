"""Random Maclaurin Feature Attention (RMFA), the attention of Macformer (method.md §2-3).

x → ppSBN pre-scale(q), pre-scale(k) → × d^-1/4 → φ = random Maclaurin features
(one draw shared by q and k and all heads) → linear attention → ppSBN post-scale γ.
"""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_kernel
from .linear_attention import at_least_float32, linear_attention
from .ppsbn import PostScale
from .random_maclaurin import RandomMaclaurinFeatures
from .registry import register_attention
from .scaling import check_radius, max_norm, scale_queries_keys


@register_attention("rmfa")
class RandomMaclaurinFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", num_features: int = 128,
                 max_degree: int = 20, ppsbn: bool = True, causal: bool = False, seed: int | None = None,
                 ppsbn_power: bool = False, denominator_floor: float = 1.0):
        super().__init__()
        self.kernel, self.ppsbn, self.causal = check_kernel(kernel), ppsbn, causal
        self.denominator_floor = denominator_floor
        self.features = RandomMaclaurinFeatures(head_dim, num_features, kernel, max_degree, seed=seed)
        self.post_scale = PostScale(num_heads, head_dim, power=ppsbn_power) if ppsbn else None

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        # Products of up to max_degree projections overflow half precision: run in fp32.
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = at_least_float32(q, k, v)
            q, k = scale_queries_keys(q, k, ppsbn=self.ppsbn)
            if not self.ppsbn:
                # |q·k| ≤ max|q|·max|k| (Cauchy–Schwarz): a cheap sufficient check.
                bound = max_norm(q.detach(), None) * max_norm(k.detach(), key_padding_mask)
                check_radius(self.kernel, bound, "the bound max‖q‖·max‖k‖ on |q·k|")
            out = linear_attention(self.features.blocks(q), self.features.blocks(k), v, key_padding_mask,
                                   causal=self.causal, denominator_floor=self.denominator_floor)
        if self.post_scale is not None:
            out = self.post_scale(out)
        return out.to(dtype)
