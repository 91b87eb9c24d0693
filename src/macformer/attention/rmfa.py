"""Random Maclaurin Feature Attention (RMFA), the attention of Macformer (Guo et al., 2024).

x → ppSBN pre-scale(q), pre-scale(k) → × d^-1/4 → φ = random Maclaurin features
(one draw shared by q and k and all heads) → linear attention → ppSBN post-scale γ.

`causal=True` is the prefix-sum form Σ_{j ≤ i}, which the authors' LRA code used for
classification too (repository 1911416-GuoYuhan/SchoenbAt, `models/attention_rmfa.py`);
the harness's Macformer rows run it, and the non-causal form is an ablation. With
ppSBN, |q·k| ≤ d^-1/2, so the kernel weights of any two keys differ by at most a
factor f(d^-1/2)/f(-d^-1/2) (1.42 for exp at d = 32): non-causally every position gets
almost the same global mean of v, while the causal running mean carries position.

Paths (same result, tested equal; `path`, resolved in rmf/paths.py): on a CPU the
grouped reference feature map feeds `linear_attention` block by block; on a GPU the
fused Triton kernels (rmf/triton_rmfa.py) compute pre-scaling, features, state and
normalisation without any feature tensor in memory. `fused` (the slot product) is
kept for comparison on a GPU where Triton is missing.
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
from .rmf.paths import check_path, resolve_path
from .rmf.triton_rmfa import KernelConfig, rmfa_triton
from .random_maclaurin import RandomMaclaurinFeatures
from .registry import register_attention
from .scaling import check_radius, max_norm, scale_queries_keys


# The share of a GPU's free memory the fused slot path's features may take before it
# chunks the sequence.
FREE_MEMORY_SHARE = 0.4


def chunk_tokens(n: int, per_token_bytes: float, budget_bytes: float) -> int:
    """Tokens per chunk: all n when they fit the budget, else whole multiples of 1024
    (at least 1024: chunks of thousands of tokens keep the GPU busy)."""
    if n * per_token_bytes <= budget_bytes:
        return n
    return max(1024, int(budget_bytes // per_token_bytes) // 1024 * 1024)


@register_attention("rmfa")
class RandomMaclaurinFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", num_features: int = 128,
                 max_degree: int = 20, ppsbn: bool = True, causal: bool = False, seed: int | None = None,
                 ppsbn_power: bool = False, denominator_floor: float = 1.0, shared_gamma: bool = False,
                 importance_weights: bool = True, path: str = "auto", chunk_mb: float | None = None):
        super().__init__()
        self.kernel, self.ppsbn, self.causal = check_kernel(kernel), ppsbn, causal
        if chunk_mb is not None and not chunk_mb >= 0:
            raise ValueError(f"chunk_mb={chunk_mb!r} is not allowed; allowed values: null (from the GPU's "
                             f"free memory) or a number of MiB >= 0 (0 never chunks)")
        self.path = check_path(path)
        self.denominator_floor, self.chunk_mb = denominator_floor, chunk_mb
        self.features = RandomMaclaurinFeatures(head_dim, num_features, kernel, max_degree, seed=seed,
                                                importance_weights=importance_weights,
                                                fused=self.path == "fused")
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
            path = self.path_for(q)
            if path == "triton":
                out = self._triton(q, k, v, key_padding_mask)
                if self.post_scale is not None:
                    out = self.post_scale(out)
                return to_dtype_saturating(out, dtype)
            q, k, v = at_least_float32(q, k, v)
            q, k = self._scaled(q, k, key_padding_mask)
            if path == "reference":
                out = linear_attention(self.features.blocks(q), self.features.blocks(k), v, key_padding_mask,
                                       causal=self.causal, denominator_floor=self.denominator_floor)
            elif (chunk := self._chunk_tokens(q)) < q.shape[-2]:
                out = lean_linear_attention(q, k, values_with_ones(v, key_padding_mask),
                                            self.features.forward_fused, self.causal,
                                            self.denominator_floor, chunk)
            else:
                # q and k through the feature map together: one projection, one set of products.
                phi = self.features.forward_fused(torch.stack((q, k)))  # [2, B, H, N, D]
                out = linear_attention(phi[0], phi[1], v, key_padding_mask,
                                       causal=self.causal, denominator_floor=self.denominator_floor)
            if self.post_scale is not None:
                out = self.post_scale(out)
        return to_dtype_saturating(out, dtype)

    def path_for(self, q: torch.Tensor) -> str:
        """The path that runs for q (rmf/paths.py): reference, fused or triton."""
        return resolve_path(self.path, q.is_cuda, q.shape[-1])

    def _triton(self, q, k, v, key_padding_mask):
        """Pre-scaling, features, state and normalisation in the Triton kernels (fp32 inside)."""
        if not self.ppsbn:
            s = q.shape[-1] ** -0.25  # the kernels scale by d^-1/4: check the radius on what they see
            bound = s * s * max_norm(q.detach().float(), None) * max_norm(k.detach().float(), key_padding_mask)
            check_radius(self.kernel, bound, "the bound max‖q‖·max‖k‖ on |q·k|")
        config = KernelConfig.for_device(q.device)
        tables = self.features.triton_tables(config.feature_block)
        return rmfa_triton(q, k, v, key_padding_mask, tables, self.ppsbn, self.causal,
                           self.denominator_floor, config)

    def _chunk_tokens(self, q: torch.Tensor) -> int:
        """Tokens per chunk on the fused slot path: the whole sequence unless its features
        and projection ([B, H, N, D + Σ N_j] floats for q and k) exceed the budget:
        `chunk_mb` MiB when set (0 never chunks), else a share of the GPU's free memory."""
        if self.chunk_mb is not None and self.chunk_mb <= 0:
            return q.shape[-2]
        width = self.features.num_features + self.features.weights.shape[1]
        per_token = 2 * q.shape[0] * q.shape[1] * width * q.element_size()
        if self.chunk_mb is not None:
            budget = self.chunk_mb * 2**20
        elif q.is_cuda:
            budget = FREE_MEMORY_SHARE * torch.cuda.mem_get_info(q.device)[0]
        else:
            return q.shape[-2]
        return chunk_tokens(q.shape[-2], per_token, budget)

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the weights the forward applies to v (for diagnostics)."""
        q, k = self._scaled(*at_least_float32(q, k), key_padding_mask)
        return linear_attention_weights(self.features(q), self.features(k), key_padding_mask,
                                        self.causal, self.denominator_floor)
