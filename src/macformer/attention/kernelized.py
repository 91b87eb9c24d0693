"""Exact kernelized attention, out_i = Σ_j f(q_i·k_j) v_j / Σ_j f(q_i·k_j): O(N²), the
D → ∞ limit of RMFA. Same scaling, post-scale γ and causal option as RMFA, so an RMFA
checkpoint loads into it unchanged."""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_kernel, kernel_value
from .linear_attention import allowed_keys
from .ppsbn import PostScale
from .registry import register_attention
from .scaling import check_radius, scale_queries_keys


@register_attention("kernelized")
class KernelizedAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, kernel: str = "exp", ppsbn: bool = True,
                 ppsbn_power: bool = False, causal: bool = False, shared_gamma: bool = False):
        super().__init__()
        self.kernel, self.ppsbn, self.causal = check_kernel(kernel), ppsbn, causal
        self.post_scale = (PostScale(num_heads, head_dim, power=ppsbn_power, shared=shared_gamma)
                           if ppsbn else None)

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: the normalised kernel weights f(q_i·k_j) / Σ_j f(q_i·k_j)."""
        q, k = scale_queries_keys(q, k, ppsbn=self.ppsbn)
        scores = q @ k.transpose(-2, -1)  # [B, H, N, N], q_i·k_j
        keep = allowed_keys(key_padding_mask, scores.shape[-1], self.causal, scores.device)
        if self.kernel in ("exp", "trigh"):
            # f = exp: the normalised weights are exactly softmax(scores); this form
            # cannot overflow.
            return torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
        scores = scores.masked_fill(~keep, 0.0)
        if not self.ppsbn:
            check_radius(self.kernel, float(scores.detach().abs().max()), "max |q·k|")
        weights = kernel_value(self.kernel, scores) * keep
        return weights / weights.sum(-1, keepdim=True)

    def forward(self, q, k, v, key_padding_mask=None):
        out = self.attention_weights(q, k, key_padding_mask) @ v
        return self.post_scale(out).to(v.dtype) if self.post_scale is not None else out
