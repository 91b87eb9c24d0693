"""Random Feature Attention (Peng et al., ICLR 2021), the random-Fourier-feature baseline.

q, k are normalised to unit length; φ(x) = D^-½ [sin(Wx), cos(Wx)] with W ~ N(0, σ^-2)
of D rows, so φ(q)·φ(k) = D^-1 Σ cos(w·(q−k)) ≈ exp(−‖q−k‖²/2σ²) = e^{−1/σ²}·exp(q·k/σ²).
`num_features` is D, the number of random projections (φ has 2D entries), as in the
RFA paper. The draw is a buffer, so checkpoints keep it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .linear_attention import at_least_float32, linear_attention
from .registry import register_attention


@register_attention("rfa")
class RandomFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, num_features: int = 128, sigma: float = 1.0,
                 seed: int | None = None, causal: bool = False, denominator_floor: float = 1e-6):
        super().__init__()
        if num_features < 1 or sigma <= 0:
            raise ValueError(f"rfa needs num_features >= 1 and sigma > 0, got {num_features}, {sigma}")
        self.num_features, self.sigma, self.causal = num_features, sigma, causal
        self.denominator_floor = denominator_floor
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.register_buffer("projection", torch.randn(head_dim, num_features, generator=gen) / sigma)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """[..., d] unit vectors -> [..., 2D]."""
        proj = x @ self.projection.to(x.dtype)  # [..., D]
        return torch.cat([proj.sin(), proj.cos()], dim=-1) / math.sqrt(self.num_features)

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = at_least_float32(q, k, v)
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
            out = linear_attention(self.feature_map(q), self.feature_map(k), v, key_padding_mask,
                                   causal=self.causal, denominator_floor=self.denominator_floor)
        return out.to(dtype)
