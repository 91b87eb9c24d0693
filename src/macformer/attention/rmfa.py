"""Random Maclaurin Feature Attention (RMFA), the attention of Macformer (Guo et al., 2024).

x → ppSBN pre-scale(q), pre-scale(k) → × d^-1/4 → φ = random Maclaurin features
(one draw shared by q and k and all heads) → linear attention → ppSBN post-scale γ.

`causal=True` is the prefix-sum form Σ_{j ≤ i}, which the authors' LRA code used for
classification too (repository 1911416-GuoYuhan/SchoenbAt, `models/attention_rmfa.py`);
the harness's Macformer rows run it, and the non-causal form is an ablation. With
ppSBN, |q·k| ≤ d^-1/2, so the kernel weights of any two keys differ by at most a
factor f(d^-1/2)/f(-d^-1/2) (1.42 for exp at d = 32): non-causally every position gets
almost the same global mean of v, while the causal running mean carries position.

Paths (same result, tested equal against rmf/naive.py; `path`, resolved in
rmf/paths.py), one signature, picked by name from rmf.paths.PATHS: on a CPU the
reference path (rmf/reference.py) feeds the grouped feature map to `linear_attention`
block by block; on a GPU the fused Triton kernels (rmf/triton_rmfa.py) compute
pre-scaling, features, state and normalisation with no feature tensor in memory.
"""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_kernel
from .linear_attention import at_least_float32, linear_attention_weights, to_dtype_saturating
from .ppsbn import PostScale
from .registry import register_attention
from .rmf.paths import PATHS, check_path, resolve_path
from .rmf.random_maclaurin import RandomMaclaurinFeatures
from .rmf.reference import scaled_queries_keys


@register_attention("rmfa")
class RandomMaclaurinFeatureAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", num_features: int = 128,
                 max_degree: int = 20, ppsbn: bool = True, causal: bool = False, seed: int | None = None,
                 ppsbn_power: bool = False, denominator_floor: float = 1.0, shared_gamma: bool = False,
                 importance_weights: bool = True, path: str = "auto"):
        super().__init__()
        self.kernel, self.ppsbn, self.causal = check_kernel(kernel), ppsbn, causal
        self.path = check_path(path)
        self.denominator_floor = denominator_floor
        self.last_path: str | None = None  # the path the last forward took (recorded in run summaries)
        self.features = RandomMaclaurinFeatures(head_dim, num_features, kernel, max_degree, seed=seed,
                                                importance_weights=importance_weights)
        self.post_scale = (PostScale(num_heads, head_dim, power=ppsbn_power, shared=shared_gamma)
                           if ppsbn else None)

    def forward(self, q, k, v, key_padding_mask=None):
        dtype = q.dtype
        # Products of up to max_degree projections overflow half precision: run in fp32.
        with torch.autocast(device_type=q.device.type, enabled=False):
            self.last_path = self.path_for(q)
            out = PATHS[self.last_path](q, k, v, key_padding_mask, self.features, ppsbn=self.ppsbn,
                                        causal=self.causal, denominator_floor=self.denominator_floor)
            if self.post_scale is not None:
                out = self.post_scale(out)
        return to_dtype_saturating(out, dtype)

    def path_for(self, q: torch.Tensor) -> str:
        """The path that runs for q (rmf/paths.py): reference or triton."""
        return resolve_path(self.path, q.is_cuda, q.shape[-1])

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the weights the forward applies to v (for diagnostics)."""
        q, k = scaled_queries_keys(*at_least_float32(q, k), key_padding_mask, self.kernel, self.ppsbn)
        return linear_attention_weights(self.features(q), self.features(k), key_padding_mask,
                                        self.causal, self.denominator_floor)
