"""The encoder of the Macformer authors' LRA code (a Skyformer port), written from its description.

tokens → embedding + learned positions → dropout → N pre-LayerNorm blocks → LayerNorm
→ mean over real tokens (`pooling="real"`), or over every position with padding zeroed
(`pooling="all"`, what the authors' code did: padding then dilutes the mean). The attention inside each block is chosen by name through
`build_attention`; ppSBN, when enabled, lives inside that attention module.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from macformer.attention import build_attention

from .dropout import Dropout

POOLINGS = ("real", "all")


class EncoderBlock(nn.Module):
    """x + Dropout(Out(Attention(QKV(LN(x))))), then x + MLP(LN(x)) with a GELU MLP."""

    def __init__(self, dim: int, num_heads: int, head_dim: int, ff_dim: int, dropout: float,
                 attention: str, attention_options: Mapping | None = None):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, head_dim
        inner = num_heads * head_dim
        self.attention_norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, inner)
        self.key = nn.Linear(dim, inner)
        self.value = nn.Linear(dim, inner)
        self.attention = build_attention(attention, head_dim=head_dim, num_heads=num_heads,
                                         **dict(attention_options or {}))
        self.output = nn.Linear(inner, dim)
        self.attention_dropout = Dropout(dropout)
        self.mlp_norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, ff_dim), nn.GELU(), Dropout(dropout),
            nn.Linear(ff_dim, dim), Dropout(dropout),
        )

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # [B, L, H·d] → [B, H, L, d]
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x: [B, L, dim]; mask: [B, L] bool, True = real token.
        h = self.attention_norm(x)
        q, k, v = (self._split_heads(proj(h)) for proj in (self.query, self.key, self.value))
        attended = self.attention(q, k, v, key_padding_mask=mask)  # [B, H, L, d]
        attended = attended.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)  # [B, L, H·d]
        x = x + self.attention_dropout(self.output(attended))
        return x + self.mlp(self.mlp_norm(x))


class Encoder(nn.Module):
    """Token ids [B, L] and a real-token mask [B, L] → one vector per sequence [B, dim]
    (`forward`), or one per position [B, L, dim] (`hidden_states`, for pretraining)."""

    def __init__(self, vocab_size: int, max_length: int, dim: int = 64, num_layers: int = 2,
                 num_heads: int = 2, head_dim: int = 32, ff_dim: int = 128, dropout: float = 0.1,
                 attention: str = "softmax", attention_options: Mapping | None = None,
                 pooling: str = "real"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling={pooling!r} is not allowed; allowed values: {', '.join(POOLINGS)}")
        self.dim, self.max_length, self.pooling = dim, max_length, pooling
        self.token_embedding = nn.Embedding(vocab_size, dim)
        self.position_embedding = nn.Embedding(max_length, dim)
        # The ports initialise both embeddings with N(0, 0.02²).
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.embedding_dropout = Dropout(dropout)
        self.blocks = nn.ModuleList(
            EncoderBlock(dim, num_heads, head_dim, ff_dim, dropout, attention, attention_options)
            for _ in range(num_layers)
        )
        self.final_norm = nn.LayerNorm(dim)

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """One vector per position [B, L, dim], before pooling (what a token head reads)."""
        length = input_ids.shape[1]
        if length > self.max_length:
            raise ValueError(f"sequence of length {length} exceeds the encoder's max_length "
                             f"{self.max_length}")
        positions = torch.arange(length, device=input_ids.device)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)[None]
        x = self.embedding_dropout(x)
        for block in self.blocks:
            x = block(x, attention_mask)
        return self.final_norm(x)  # [B, L, dim]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.hidden_states(input_ids, attention_mask)  # [B, L, dim]
        weights = attention_mask.to(x.dtype).unsqueeze(-1)  # [B, L, 1]
        if self.pooling == "all":
            return (x * weights).mean(1)  # [B, dim]: padding counts as zeros
        return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)  # [B, dim]: real tokens only
