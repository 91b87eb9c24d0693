"""Linear attention from feature maps: out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j).

Shared by every random-feature attention (RMFA, RFA, Performer). Random-feature
estimates of a kernel can be negative (RMF and RFA features are signed), so the
denominator can be zero or negative and the ratio explode. The guard: the
denominator is clamped from below at `denominator_floor`, a number (RMFA: 1.0, as
in the Macformer authors' code; with n real keys and ppSBN the true denominator
Σ_j f(q_i·k_j) is about n·f(0) = n, so the clamp only acts on estimates that went
badly wrong) or a tensor of per-query floors (RFA: a lower bound of the true
denominator, see rfa.py).
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
    denominator_floor: float | torch.Tensor = 1.0,
    chunk_size: int = 64,
) -> torch.Tensor:
    """phi_q, phi_k: [B, H, N, D]; v: [B, H, N, d]; mask: [B, N] True = real -> [B, H, N, d].

    The features may come as matching tuples of blocks [B, H, N, D_b] (their
    concatenation is φ): φ(q)·Σφ(k)vᵀ is then summed block by block, with no copy.
    """
    if isinstance(phi_q, torch.Tensor):
        phi_q, phi_k = (phi_q,), (phi_k,)
    v1 = values_with_ones(v, key_padding_mask)
    if causal:
        out1 = causal_prefix(torch.cat(phi_q, -1), torch.cat(phi_k, -1), v1, chunk_size)
    else:
        out1 = sum(q_b @ (k_b.transpose(-2, -1) @ v1)  # [B, H, N, D_b] @ [B, H, D_b, d + 1]
                   for q_b, k_b in zip(phi_q, phi_k, strict=True))  # [B, H, N, d + 1]
    num, den = out1[..., :-1], out1[..., -1:]
    return num / clamp_denominator(den, denominator_floor)


def values_with_ones(v: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
    """[v, 1] [B, H, N, d + 1], zero on padding keys: one product then gives numerator and
    denominator together, and zeroing a padding key's row removes it from Σ φ(k_j) v_jᵀ
    and Σ φ(k_j) alike (cheaper than zeroing φ(k_j))."""
    v1 = F.pad(v, (0, 1), value=1.0)
    if key_padding_mask is not None:
        v1 = v1 * key_padding_mask[:, None, :, None].to(v1.dtype)  # [B, 1, N, 1] broadcast
    return v1


def clamp_denominator(den: torch.Tensor, floor: float | torch.Tensor) -> torch.Tensor:
    """den [B, H, N, 1] clamped from below at a number or a broadcastable tensor."""
    return den.clamp(min=floor) if not isinstance(floor, torch.Tensor) else torch.maximum(den, floor)


def keys_seen(key_padding_mask: torch.Tensor | None, n: int, causal: bool, like: torch.Tensor) -> torch.Tensor:
    """How many real keys each query attends to: [B or 1, 1, N or 1, 1] (float, like `like`)."""
    if key_padding_mask is None:
        real = torch.ones(1, n, dtype=like.dtype, device=like.device)
    else:
        real = key_padding_mask.to(like.dtype)  # [B, N]
    counts = real.cumsum(-1) if causal else real.sum(-1, keepdim=True)  # [B, N] or [B, 1]
    return counts[:, None, :, None]


def linear_attention_weights(
    phi_q: torch.Tensor, phi_k: torch.Tensor, key_padding_mask: torch.Tensor | None = None,
    causal: bool = False, denominator_floor: float | torch.Tensor = 1.0,
) -> torch.Tensor:
    """The [B, H, N, N] matrix that linear_attention applies to v, built explicitly
    (O(N²): for diagnostics on small probes). Rows sum to one unless the floor acted."""
    scores = phi_q @ phi_k.transpose(-2, -1)  # [B, H, N, N]: φ(q_i)·φ(k_j)
    scores = scores * allowed_keys(key_padding_mask, scores.shape[-1], causal, scores.device)
    return scores / clamp_denominator(scores.sum(-1, keepdim=True), denominator_floor)


def allowed_keys(key_padding_mask: torch.Tensor | None, n: int, causal: bool, device) -> torch.Tensor:
    """[B or 1, 1, N or 1, N] bool: key j is visible from query i (real, and j ≤ i when causal)."""
    keep = torch.ones(1, 1, 1, n, dtype=torch.bool, device=device)
    if key_padding_mask is not None:
        keep = key_padding_mask[:, None, None, :]
    if causal:
        keep = keep & torch.ones(n, n, dtype=torch.bool, device=device).tril()
    return keep


def to_dtype_saturating(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Cast fp32 results back to the caller's dtype without turning large finite values
    into inf: float16 stops at 65504, so values beyond are clamped to its range."""
    if out.dtype == dtype:
        return out
    if dtype.is_floating_point:
        limit = torch.finfo(dtype).max
        out = out.clamp(-limit, limit)
    return out.to(dtype)


def causal_prefix(phi_q: torch.Tensor, phi_k: torch.Tensor, v1: torch.Tensor, chunk: int = 64) -> torch.Tensor:
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
