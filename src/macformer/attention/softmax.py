"""Exact softmax attention, softmax(QKᵀ/√d)V: the fused kernel, and the materialised
form the LRA PyTorch ports ran (kept as a speed/memory reference)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .registry import register_attention


@register_attention("softmax")
class SoftmaxAttention(nn.Module):
    def __init__(self, head_dim: int, num_heads: int):
        super().__init__()

    def forward(self, q, k, v, key_padding_mask=None):
        mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]  # [B, 1, 1, N]
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@register_attention("softmax_materialized")
class MaterializedSoftmaxAttention(nn.Module):
    """The N×N score matrix is built explicitly, as in the Nyströmformer/Skyformer ports."""

    def __init__(self, head_dim: int, num_heads: int):
        super().__init__()

    def forward(self, q, k, v, key_padding_mask=None):
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [B, H, N, N]
        if key_padding_mask is not None:
            scores = scores.masked_fill(~key_padding_mask[:, None, None, :], torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1) @ v
