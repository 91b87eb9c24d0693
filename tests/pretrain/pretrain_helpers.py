"""A tiny encoder and a structured token task for the pretraining tests."""

from __future__ import annotations

import torch

from macformer.models.encoder import Encoder

VOCAB = 12  # task ids 0..11, 0 = padding; the mask id is VOCAB
LENGTH = 24


def tiny_encoder(attention: str = "softmax", options: dict | None = None, dropout: float = 0.0,
                 rows: int = VOCAB + 1, seed: int = 0) -> Encoder:
    torch.manual_seed(seed)
    return Encoder(vocab_size=rows, max_length=LENGTH, dim=32, num_layers=2, num_heads=2, head_dim=16,
                   ff_dim=64, dropout=dropout, attention=attention, attention_options=options or {})


def pattern_batch(batch: int, seed: int, pair: bool = False) -> dict[str, torch.Tensor]:
    """Rows repeating a random pattern of 1 to 3 ids from 1..VOCAB-1, with 16 to LENGTH real
    tokens then padding: every token is a copy of the one a period before it."""
    g = torch.Generator().manual_seed(seed)
    periods = torch.randint(1, 4, (batch, 1), generator=g)
    patterns = torch.randint(1, VOCAB, (batch, 3), generator=g)
    positions = torch.arange(LENGTH)[None]
    ids = patterns.gather(1, positions % periods)  # [B, L]
    mask = positions < torch.randint(16, LENGTH + 1, (batch, 1), generator=g)
    out = {"input_ids": ids.masked_fill(~mask, 0), "attention_mask": mask,
           "label": torch.zeros(batch, dtype=torch.long)}
    if pair:
        other = pattern_batch(batch, seed + 10_000)
        out["input_ids_pair"], out["attention_mask_pair"] = other["input_ids"], other["attention_mask"]
    return out
