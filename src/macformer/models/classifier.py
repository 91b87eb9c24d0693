"""Classification heads: Linear–ReLU–Linear on one pooled sequence, or on a document pair.

Retrieval is a DUAL encoder: both documents go through the SAME encoder and the head
sees [x1, x2, x1·x2, x1−x2] (LRA's own code silently built a single encoder instead).
"""

from __future__ import annotations

import torch
from torch import nn

from .encoder import Encoder


def _head(in_dim: int, hidden_dim: int, num_classes: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, num_classes))


class SequenceClassifier(nn.Module):
    """batch dict with input_ids / attention_mask [B, L] → logits [B, classes]."""

    def __init__(self, encoder: Encoder, num_classes: int, hidden_dim: int = 128):
        super().__init__()
        self.encoder = encoder
        self.head = _head(encoder.dim, hidden_dim, num_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.encoder(batch["input_ids"], batch["attention_mask"]))


class DualSequenceClassifier(nn.Module):
    """Two documents through one shared encoder; head on [x1, x2, x1·x2, x1−x2]."""

    def __init__(self, encoder: Encoder, num_classes: int, hidden_dim: int = 128):
        super().__init__()
        self.encoder = encoder
        self.head = _head(4 * encoder.dim, hidden_dim, num_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x1 = self.encoder(batch["input_ids"], batch["attention_mask"])
        x2 = self.encoder(batch["input_ids_pair"], batch["attention_mask_pair"])
        return self.head(torch.cat([x1, x2, x1 * x2, x1 - x2], dim=-1))


def build_classifier(encoder: Encoder, num_classes: int, dual: bool, hidden_dim: int = 128) -> nn.Module:
    cls = DualSequenceClassifier if dual else SequenceClassifier
    return cls(encoder, num_classes, hidden_dim)
