"""Exact kernelized attention, out_i = Σ_j f(q_i·k_j) v_j / Σ_j f(q_i·k_j): O(N²), the
D → ∞ limit of RMFA (method.md §2). Same scaling and post-scale γ as RMFA, so an
RMFA checkpoint loads into it unchanged."""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_kernel, kernel_value
from .ppsbn import PostScale
from .registry import register_attention
from .scaling import check_radius, scale_queries_keys


@register_attention("kernelized")
class KernelizedAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", ppsbn: bool = True,
                 ppsbn_power: bool = False):
        super().__init__()
        self.kernel, self.ppsbn = check_kernel(kernel), ppsbn
        self.post_scale = PostScale(num_heads, head_dim, power=ppsbn_power) if ppsbn else None

    def forward(self, q, k, v, key_padding_mask=None):
        q, k = scale_queries_keys(q, k, ppsbn=self.ppsbn)
        scores = q @ k.transpose(-2, -1)  # [B, H, N, N], q_i·k_j
        if key_padding_mask is not None:
            keep = key_padding_mask[:, None, None, :]  # [B, 1, 1, N]
        if self.kernel in ("exp", "trigh"):
            # f = exp: the normalised weights are exactly softmax(scores); this form
            # cannot overflow.
            if key_padding_mask is not None:
                scores = scores.masked_fill(~keep, float("-inf"))
            weights = torch.softmax(scores, dim=-1)
        else:
            if key_padding_mask is not None:
                scores = scores.masked_fill(~keep, 0.0)
            if not self.ppsbn:
                check_radius(self.kernel, float(scores.detach().abs().max()), "max |q·k|")
            weights = kernel_value(self.kernel, scores)
            if key_padding_mask is not None:
                weights = weights * keep
            weights = weights / weights.sum(-1, keepdim=True)
        out = weights @ v
        return self.post_scale(out) if self.post_scale is not None else out
