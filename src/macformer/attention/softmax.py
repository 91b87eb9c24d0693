"""Exact softmax attention, softmax(QKᵀ/√d)V: PyTorch's scaled_dot_product_attention
(SDPA), and the materialised form the LRA PyTorch ports ran (kept as a speed/memory
reference).

Options for the Macformer authors' protocol: their LRA code (`--former maclauformer`)
wraps every attention, softmax included, in ppSBN: q and k are pre-scaled to unit
length (so |logit| ≤ d^-1/2) and the output multiplied by a learned γ. `dropout` is
dropout on the attention weights while training (0.1 in LRA and in their code).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .linear_attention import allowed_keys
from .ppsbn import PostScale, pre_scale
from .registry import register_attention


@register_attention("softmax")
class SoftmaxAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int, dropout: float = 0.0, ppsbn: bool = False,
                 shared_gamma: bool = False):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"softmax dropout must be in [0, 1), got {dropout}")
        self.dropout, self.ppsbn = dropout, ppsbn
        self.post_scale = PostScale(num_heads, head_dim, shared=shared_gamma) if ppsbn else None

    def _pre(self, q, k):
        return (pre_scale(q), pre_scale(k)) if self.ppsbn else (q, k)

    def forward(self, q, k, v, key_padding_mask=None):
        q, k = self._pre(q, k)
        mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]  # [B, 1, 1, N]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.post_scale(out).to(v.dtype) if self.post_scale is not None else out

    def attention_weights(self, q, k, key_padding_mask=None):
        """[B, H, N, N]: softmax(q·k/√d) over real keys, without dropout (for diagnostics)."""
        q, k = self._pre(q, k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        keep = allowed_keys(key_padding_mask, scores.shape[-1], False, scores.device)
        return torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)


@register_attention("softmax_materialized")
class MaterializedSoftmaxAttention(nn.Module):
    """The N×N score matrix is built explicitly, as in the Nyströmformer/Skyformer ports."""

    def __init__(self, head_dim: int, num_heads: int):
        super().__init__()

    def forward(self, q, k, v, key_padding_mask=None):
        return self.attention_weights(q, k, key_padding_mask) @ v

    def attention_weights(self, q, k, key_padding_mask=None):
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [B, H, N, N]
        if key_padding_mask is not None:
            scores = scores.masked_fill(~key_padding_mask[:, None, None, :], torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1)
