"""ppSBN: pre-post scaling batch normalisation (Guo et al., 2024, Macformer).

Pre-scaling has no parameters and works per token, so padding never leaks into real
positions: centre over the head dimension, divide by the standard deviation, then
divide by the ℓ2 norm (unit vectors); the attention multiplies by d^-1/4 after it,
so |q·k| ≤ d^-1/2 < 1 lies inside every kernel's radius of convergence.
Post-scaling multiplies the attention output by a learned γ (one per head and head
dimension, initialised to 1; `shared=True` keeps one γ over the head dimension for
all heads, as the authors' LRA code did), optionally after a learned power β (the
authors' first version; off by default).
"""

from __future__ import annotations

import torch
from torch import nn

_EPS = 1e-6


def pre_scale(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """[..., head_dim] -> zero-mean rows of ℓ2 norm `scale` (zero rows stay zero).

    Dividing by the standard deviation before normalising changes nothing in exact
    arithmetic, so it is folded into the one normalisation.
    """
    x = x - x.mean(dim=-1, keepdim=True)
    return x * (scale / (x.norm(dim=-1, keepdim=True) + _EPS))


class PostScale(nn.Module):
    """out * γ (and sign(out)·|out|^β first when `power=True`)."""

    def __init__(self, num_heads: int, head_dim: int, power: bool = False, shared: bool = False):
        super().__init__()
        heads = 1 if shared else num_heads
        self.gamma = nn.Parameter(torch.ones(heads, 1, head_dim))  # broadcasts over [B, H, N, d]
        self.beta = nn.Parameter(torch.ones(())) if power else None

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        if self.beta is not None:
            out = out.sign() * (out.abs() + _EPS).pow(self.beta)
        return out * self.gamma
