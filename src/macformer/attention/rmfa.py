"""Random Maclaurin Feature Attention (RMFA), the attention of Macformer (Guo et al., 2024).

x → ppSBN pre-scale(q), pre-scale(k) → × d^-1/4 → φ = random Maclaurin features
(one draw shared by q and k and all heads) → linear attention → ppSBN post-scale γ.

`causal=True` is the prefix-sum form Σ_{j ≤ i}, which the authors' LRA code used for
classification too (repository 1911416-GuoYuhan/SchoenbAt, `models/attention_rmfa.py`);
the harness's Macformer rows run it, and the non-causal form is an ablation. With
ppSBN, |q·k| ≤ d^-1/2, so the kernel weights of any two keys differ by at most a
factor f(d^-1/2)/f(-d^-1/2) (1.42 for exp at d = 32): non-causally every position gets
almost the same global mean of v, while the causal running mean carries position.

Paths (same result, tested equal): on a CPU the grouped reference feature map feeds
`linear_attention` block by block; on a GPU (`fused=None`) the fused slot product
(maclaurin_slots.py) runs q and k in one call, and a sequence too long for `chunk_mb`
goes through `lean_linear_attention`, which keeps no feature tensor.
"""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_kernel
from .lean_linear_attention import lean_linear_attention
from .linear_attention import (
    at_least_float32,
    linear_attention,
    linear_attention_weights,
    to_dtype_saturating,
    values_with_ones,
)
from .ppsbn import PostScale
from .random_maclaurin import RandomMaclaurinFeatures
from .registry import register_attention
from .scaling import check_radius, max_norm, scale_queries_keys


@register_attention("rmfa")
class RandomMaclaurinFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", num_features: int = 128,
                 max_degree: int = 20, ppsbn: bool = True, causal: bool = False, seed: int | None = None,
                 ppsbn_power: bool = False, denominator_floor: float = 1.0, shared_gamma: bool = False,
                 importance_weights: bool = True, fused: bool | None = None, chunk_mb: float = 32.0):
        super().__init__()
        self.kernel, self.ppsbn, self.causal = check_kernel(kernel), ppsbn, causal
        if fused not in (None, True, False):
            raise ValueError(f"fused={fused!r} is not allowed; allowed values: null (auto), true, false")
        if not chunk_mb >= 0:
            raise ValueError(f"chunk_mb must be >= 0 (0 never chunks), got {chunk_mb!r}")
        self.denominator_floor, self.chunk_mb = denominator_floor, chunk_mb
        self.features = RandomMaclaurinFeatures(head_dim, num_features, kernel, max_degree, seed=seed,
                                                importance_weights=importance_weights, fused=fused)
        self.post_scale = (PostScale(num_heads, head_dim, power=ppsbn_power, shared=shared_gamma)
                           if ppsbn else None)

    def _scaled(self, q, k, key_padding_mask):
        q, k = scale_queries_keys(q, k, ppsbn=self.ppsbn)
        if not self.ppsbn:
            # |q·k| ≤ max|q|·max|k| (Cauchy–Schwarz): a cheap sufficient check.
            bound = max_norm(q.detach(), None) * max_norm(k.detach(), key_padding_mask)
            check_radius(self.kernel, bound, "the bound max‖q‖·max‖k‖ on |q·k|")
        return q, k

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        # Products of up to max_degree projections overflow half precision: run in fp32.
        with torch.autocast(device_type=q.device.type, enabled=False):
            q, k, v = at_least_float32(q, k, v)
            q, k = self._scaled(q, k, key_padding_mask)
            if not self.features.uses_fused(q):
                out = linear_attention(self.features.blocks(q), self.features.blocks(k), v, key_padding_mask,
                                       causal=self.causal, denominator_floor=self.denominator_floor)
            elif (chunk := self._chunk_tokens(q)) < q.shape[-2]:
                out = lean_linear_attention(q, k, values_with_ones(v, key_padding_mask),
                                            self.features.forward_fused, self.causal,
                                            self.denominator_floor, chunk)
            else:
                # q and k through the feature map together: one projection, one set of products.
                phi = self.features(torch.stack((q, k)))  # [2, B, H, N, D]
                out = linear_attention(phi[0], phi[1], v, key_padding_mask,
                                       causal=self.causal, denominator_floor=self.denominator_floor)
            if self.post_scale is not None:
                out = self.post_scale(out)
        return to_dtype_saturating(out, dtype)

    def _chunk_tokens(self, q: torch.Tensor) -> int:
        """Tokens per chunk on the fused path: the features and projection of one chunk
        of q or k ([B, H, chunk, D + Σ N_j] floats) fit in `chunk_mb` MiB. A sequence
        within one chunk keeps its features for the backward (fewest launches); a longer
        one runs chunk by chunk and recomputes them (memory follows the chunk, not N).
        chunk_mb = 0 never chunks."""
        if self.chunk_mb <= 0:
            return q.shape[-2]
        width = self.features.num_features + self.features.weights.shape[1]
        per_token = q.shape[0] * q.shape[1] * width * q.element_size()
        return max(64, int(self.chunk_mb * 2**20 // per_token) // 64 * 64)  # whole causal blocks

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the weights the forward applies to v (for diagnostics)."""
        q, k = self._scaled(*at_least_float32(q, k), key_padding_mask)
        return linear_attention_weights(self.features(q), self.features(k), key_padding_mask,
                                        self.causal, self.denominator_floor)
