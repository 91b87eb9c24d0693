"""Random Feature Attention (Peng et al., ICLR 2021), the random-Fourier-feature baseline.

q, k are normalised to unit length; φ(x) = D^-½ [sin(Wx), cos(Wx)] with W ~ N(0, σ^-2)
of D rows, so φ(q)·φ(k) = D^-1 Σ cos(w·(q−k)) ≈ exp(−‖q−k‖²/2σ²) = e^{−1/σ²}·exp(q·k/σ²).
`num_features` is D, the number of random projections (φ has 2D entries), as in the
RFA paper. The draw is a buffer, so checkpoints keep it.

The denominator guard. The estimate φ(q)·Σφ(k) is signed and can be ≤ 0 for some
draws (keys anti-aligned with the query). Clamping it at a tiny constant made the
output ~10⁶ × the numerator, which overflows float16 (65504) and poisons 16-bit
training. Instead the floor is a lower bound of the TRUE denominator: for unit q, k,
‖q − k‖ ≤ 2, so every term exp(−‖q−k‖²/2σ²) ≥ e^{−2/σ²} and the true denominator of
a query that sees n real keys is ≥ n·e^{−2/σ²}. Since |φ(q)·φ(k)| ≤ ‖φ(q)‖‖φ(k)‖ = 1,
the numerator is at most n·max|v|, so the output is bounded by e^{2/σ²}·max|v| for
every draw (7.4·max|v| at σ = 1). `denominator_floor` = a number restores a constant
floor.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .linear_attention import (
    at_least_float32,
    keys_seen,
    linear_attention,
    linear_attention_weights,
    to_dtype_saturating,
)
from .registry import register_attention


@register_attention("rfa")
class RandomFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, num_features: int = 128, sigma: float = 1.0,
                 seed: int | None = None, causal: bool = False, denominator_floor: float | None = None):
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

    def _floor(self, key_padding_mask, n: int, like: torch.Tensor):
        if self.denominator_floor is not None:
            return self.denominator_floor
        # n_i · e^{-2/σ²}, the smallest value the true denominator can take (see above).
        bound = keys_seen(key_padding_mask, n, self.causal, like) * math.exp(-2.0 / self.sigma**2)
        return bound.clamp_min(torch.finfo(like.dtype).tiny)

    def _features(self, q, k):
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        return self.feature_map(q), self.feature_map(k)

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = at_least_float32(q, k, v)
            phi_q, phi_k = self._features(q, k)
            out = linear_attention(phi_q, phi_k, v, key_padding_mask, causal=self.causal,
                                   denominator_floor=self._floor(key_padding_mask, q.shape[-2], q))
        return to_dtype_saturating(out, dtype)

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the weights the forward applies to v (for diagnostics)."""
        q, k = at_least_float32(q, k)
        phi_q, phi_k = self._features(q, k)
        return linear_attention_weights(phi_q, phi_k, key_padding_mask, self.causal,
                                        self._floor(key_padding_mask, q.shape[-2], q))
