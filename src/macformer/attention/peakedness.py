"""How peaked an attention is: numbers that explain why a row learns or not.

Given the explicit weights w [B, H, N, N] an attention applies to v (each variant's
`attention_weights`) and which keys each query may see:
- entropy: H(p_i) / log(n_i), averaged over real queries, with p_i = |w_i| / Σ|w_i| over
  the n_i visible keys. 1 = uniform (a bag of tokens), 0 = one key.
- max_min_ratio: median over queries of max_j w_ij / min_j w_ij (inf where an estimate
  is ≤ 0). With ppSBN the exact kernel weights of two keys differ by at most
  f(d^-1/2) / f(-d^-1/2): `ppsbn_ratio_bound`.
- negative_fraction: share of visible weights below zero (signed random features).
- output_spread: how much the attention output varies across real positions, relative
  to how much v does (per batch, head and channel: std over positions, then the mean of
  the ratio). Near 0: every position receives the same vector.
"""

from __future__ import annotations

import math

import torch

from .kernels import kernel_value


def ppsbn_ratio_bound(kernel: str, head_dim: int) -> float:
    """The largest ratio of two kernel weights under ppSBN: |q·k| ≤ d^-1/2."""
    s = torch.tensor(head_dim ** -0.5, dtype=torch.float64)
    return float(kernel_value(kernel, s) / kernel_value(kernel, -s))


def weight_stats(weights: torch.Tensor, allowed: torch.Tensor, query_mask: torch.Tensor | None) -> dict:
    """weights [B, H, N, N]; allowed broadcastable to it (bool); query_mask [B, N] or None."""
    w = weights.double()
    allowed = allowed.expand_as(w)
    n = allowed.sum(-1)  # [B, H, N] visible keys per query
    rows = n >= 2
    if query_mask is not None:
        rows = rows & query_mask[:, None, :]
    if not bool(rows.any()):
        return {"entropy": float("nan"), "max_min_ratio": float("nan"), "negative_fraction": float("nan")}
    mag = w.abs() * allowed
    p = mag / mag.sum(-1, keepdim=True).clamp_min(1e-300)
    entropy = -(p * p.clamp_min(1e-300).log()).sum(-1) / n.clamp_min(2).double().log()
    top = w.masked_fill(~allowed, -math.inf).amax(-1)
    low = w.masked_fill(~allowed, math.inf).amin(-1)
    ratio = torch.where(low > 0, top / low.clamp_min(1e-300), torch.full_like(top, math.inf))
    negative = ((w < 0) & allowed).sum(-1).double()
    return {
        "entropy": float(entropy[rows].mean()),
        "max_min_ratio": float(ratio[rows].median()),
        "negative_fraction": float(negative[rows].sum() / n[rows].sum()),
    }


def output_spread(out: torch.Tensor, v: torch.Tensor, query_mask: torch.Tensor | None) -> float:
    """out, v [B, H, N, d] → mean over (B, H, d) of std_positions(out) / std_positions(v)."""
    keep = torch.ones(out.shape[0], out.shape[2], dtype=torch.bool, device=out.device) \
        if query_mask is None else query_mask
    spreads = []
    for b in range(out.shape[0]):
        real = keep[b]
        if int(real.sum()) < 2:
            continue
        o, x = out[b][:, real].double(), v[b][:, real].double()  # [H, n, d]
        spreads.append((o.std(1) / x.std(1).clamp_min(1e-12)).mean())
    return float(torch.stack(spreads).mean()) if spreads else float("nan")
