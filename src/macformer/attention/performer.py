"""Performer / FAVOR+ (Choromanski et al., ICLR 2021), an extra baseline.

Positive orthogonal random features φ(x) = m^-½ exp(Wx − ‖x‖²/2) estimate exp(q·k)
for q, k scaled by d^-1/4 (the softmax temperature). A per-row maximum is
subtracted inside the exponent for stability; for queries it cancels in the ratio,
for keys one shared maximum (over the whole tensor) cancels too.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .linear_attention import (
    at_least_float32,
    linear_attention,
    linear_attention_weights,
    to_dtype_saturating,
)
from .registry import register_attention


def orthogonal_gaussian(rows: int, dim: int, gen: torch.Generator | None) -> torch.Tensor:
    """[rows, dim]: blocks of orthogonal rows with Gaussian-like (chi) norms."""
    blocks = []
    for _ in range(math.ceil(rows / dim)):
        qmat, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen))
        blocks.append(qmat.T)
    w = torch.cat(blocks)[:rows]
    norms = torch.randn(rows, dim, generator=gen).norm(dim=1, keepdim=True)
    return w * norms


@register_attention("performer")
class PerformerAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, num_features: int = 128, seed: int | None = None,
                 causal: bool = False):
        super().__init__()
        self.num_features, self.causal = num_features, causal
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.register_buffer("projection", orthogonal_gaussian(num_features, head_dim, gen).T.contiguous())

    def feature_map(self, x: torch.Tensor, per_row: bool) -> torch.Tensor:
        proj = x @ self.projection.to(x.dtype)  # [..., m]
        logits = proj - x.pow(2).sum(-1, keepdim=True) / 2
        shift = logits.amax(-1, keepdim=True) if per_row else logits.amax()
        return torch.exp(logits - shift.detach()) / math.sqrt(self.num_features)

    def _features(self, q, k, key_padding_mask):
        s = q.shape[-1] ** -0.25
        q, k = q * s, k * s
        if key_padding_mask is not None:
            k = k * key_padding_mask[:, None, :, None]  # padding must not set the key shift
        return self.feature_map(q, True), self.feature_map(k, False)

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = at_least_float32(q, k, v)
            phi_q, phi_k = self._features(q, k, key_padding_mask)
            out = linear_attention(phi_q, phi_k, v, key_padding_mask, causal=self.causal,
                                   denominator_floor=1e-6)
        return to_dtype_saturating(out, dtype)

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the weights the forward applies to v (for diagnostics)."""
        phi_q, phi_k = self._features(*at_least_float32(q, k), key_padding_mask)
        return linear_attention_weights(phi_q, phi_k, key_padding_mask, self.causal, 1e-6)
