"""Linear attention from feature maps: out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j).

Shared by every random-feature attention (RMFA, RFA, Performer). Random-feature
estimates of a kernel can be negative (RMF and RFA features are signed), so the
denominator can be zero or negative and the ratio explode. The guard, as in the
Macformer authors' code: the denominator is clamped from below at
`denominator_floor` (default 1.0). With n real keys and ppSBN the true denominator
Σ_j f(q_i·k_j) is about n·f(0) = n, so the clamp only acts on estimates that have
gone badly wrong, and it keeps the output finite.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def at_least_float32(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Half-precision inputs go up to float32: products of up to max_degree random
    projections, and sums over thousands of keys, overflow float16."""
    return [t.float() if t.dtype in (torch.float16, torch.bfloat16) else t for t in tensors]


def linear_attention(
    phi_q: torch.Tensor | tuple[torch.Tensor, ...],
    phi_k: torch.Tensor | tuple[torch.Tensor, ...],
    v: torch.Tensor,
    key_padding_mask: torch.Tensor | None = None,
    causal: bool = False,
    denominator_floor: float = 1.0,
    chunk_size: int = 64,
) -> torch.Tensor:
    """phi_q, phi_k: [B, H, N, D]; v: [B, H, N, d]; mask: [B, N] True = real -> [B, H, N, d].

    The features may come as matching tuples of blocks [B, H, N, D_b] (their
    concatenation is φ): φ(q)·Σφ(k)vᵀ is then summed block by block, with no copy.
    """
    if isinstance(phi_q, torch.Tensor):
        phi_q, phi_k = (phi_q,), (phi_k,)
    # Append a ones column so one product gives numerator and denominator together.
    v1 = F.pad(v, (0, 1), value=1.0)  # [B, H, N, d + 1]
    if key_padding_mask is not None:
        # Padding keys contribute nothing: zeroing their row of [v, 1] removes them
        # from Σ φ(k_j) v_jᵀ and Σ φ(k_j) alike (cheaper than zeroing φ(k_j)).
        v1 = v1 * key_padding_mask[:, None, :, None].to(v1.dtype)  # [B, 1, N, 1] broadcast
    if causal:
        out1 = _causal(torch.cat(phi_q, -1), torch.cat(phi_k, -1), v1, chunk_size)
    else:
        out1 = sum(q_b @ (k_b.transpose(-2, -1) @ v1)  # [B, H, N, D_b] @ [B, H, D_b, d + 1]
                   for q_b, k_b in zip(phi_q, phi_k, strict=True))  # [B, H, N, d + 1]
    num, den = out1[..., :-1], out1[..., -1:]
    return num / den.clamp(min=denominator_floor)


def _causal(phi_q: torch.Tensor, phi_k: torch.Tensor, v1: torch.Tensor, chunk: int) -> torch.Tensor:
    """Prefix-sum form Σ_{j ≤ i}, in chunks: O(N·C·D) within chunks, O(N·D·d) across.

    Materialising Σ_{j ≤ i} φ(k_j) v_jᵀ for every i (as the authors' code did) needs
    N·D·d memory; carrying one state per chunk needs (N/C)·D·d.
    """
    B, H, N, D = phi_q.shape
    e = v1.shape[-1]
    pad = (-N) % chunk
    if pad:
        phi_q, phi_k, v1 = (F.pad(t, (0, 0, 0, pad)) for t in (phi_q, phi_k, v1))
    C = (N + pad) // chunk
    q = phi_q.reshape(B, H, C, chunk, D)  # [B, H, chunks, chunk, D]
    k = phi_k.reshape(B, H, C, chunk, D)
    w = v1.reshape(B, H, C, chunk, e)
    state = k.transpose(-2, -1) @ w  # per-chunk Σ φ(k) v1ᵀ: [B, H, C, D, e]
    # Exclusive prefix over chunks: what all earlier chunks contribute.
    before = torch.cumsum(state, dim=2) - state
    inter = q @ before  # [B, H, C, chunk, e]
    scores = q @ k.transpose(-2, -1)  # [B, H, C, chunk, chunk]
    lower = torch.ones(chunk, chunk, dtype=torch.bool, device=q.device).tril()
    intra = scores.masked_fill(~lower, 0.0) @ w  # [B, H, C, chunk, e]
    out = (inter + intra).reshape(B, H, C * chunk, e)
    return out[:, :, :N]
