"""The token head of self-pretraining: one Linear(dim → vocab_size) per position.

A plain linear map, as BERT-style heads reduce to without their transform layer: the
encoder already ends in a LayerNorm (`final_norm`), so another norm adds nothing, and a
head with few parameters leaves the learning to the encoder, the part fine-tuning keeps
(the head is dropped then).
"""

from __future__ import annotations

import torch
from torch import nn


class TokenHead(nn.Module):
    """hidden states [B, L, dim] → token logits [B, L, vocab_size]."""

    def __init__(self, dim: int, vocab_size: int):
        super().__init__()
        self.projection = nn.Linear(dim, vocab_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.projection(hidden)
