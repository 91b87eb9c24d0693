"""RMFA written plainly, as the definition the paths (reference.py, triton_rmfa.py) are
tested against, with their signature.

φ(x)_0 = √a_0 and φ(x)_j = scale_j · Π_{i < N_j} w_{j,i}·x, feature by feature; then

    out_i = Σ_{j visible from i} (φ(q_i)·φ(k_j)) v_j / max(Σ_{j visible} φ(q_i)·φ(k_j), floor)

with the [N, N] score matrix built explicitly (O(N²): for tests on small inputs). As
for the paths, ppSBN's post-scale γ ⊙ out is the caller's.
"""

from __future__ import annotations

import torch

from ..linear_attention import allowed_keys
from ..scaling import scale_queries_keys


def naive_features(features, x: torch.Tensor) -> torch.Tensor:
    """x [..., d] -> φ(x) [..., D] from the draw of a RandomMaclaurinFeatures, one feature at a time."""
    weights = features.weights.to(x.dtype)  # [d, Σ N_j], factor 0 carries the feature's scale
    out = [features.constant.to(x.dtype).expand(x.shape[:-1])]
    for n, c, row, _ in features._groups:
        for j in range(c):
            product = torch.ones_like(x[..., 0])
            for i in range(n):
                product = product * (x @ weights[:, row + i * c + j])
            out.append(product)
    return torch.stack(out, dim=-1)


def naive_rmfa(q, k, v, key_padding_mask, features, *, ppsbn: bool, causal: bool,
               denominator_floor: float) -> torch.Tensor:
    """q, k, v [B, H, N, d] -> [B, H, N, d] in the inputs' dtype, before ppSBN's post-scale."""
    q, k = scale_queries_keys(q, k, ppsbn=ppsbn)
    phi_q, phi_k = naive_features(features, q), naive_features(features, k)
    scores = phi_q @ phi_k.transpose(-2, -1)  # [B, H, N, N]
    scores = scores * allowed_keys(key_padding_mask, scores.shape[-1], causal, scores.device)
    return (scores @ v) / scores.sum(-1, keepdim=True).clamp(min=denominator_floor)
