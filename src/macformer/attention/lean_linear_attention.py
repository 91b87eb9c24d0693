"""Linear attention that keeps no feature tensor: features are made chunk by chunk and
made again in the backward pass.

Plain autograd over φ(q), φ(k) keeps both, [B, H, N, D], plus whatever the feature
map saves; for random Maclaurin features the forward also holds the projection,
[B, H, N, Σ N_j] with Σ N_j ≈ 2D, at once. Here the sequence is cut into chunks of
`chunk` tokens, only the inputs (q, k, [v, 1]), the output and the key-value state
are kept, and the backward recomputes each chunk's features under autograd. The
peak then follows the chunk, not N, for the price of one more feature-map forward.

    non-causal:  KV = Σ_c φ(k_c)ᵀ [v, 1]_c,   out_c = φ(q_c) KV
    causal:      S_0 = 0,  out_c = φ(q_c) S_c + (within chunk c, j ≤ i),  S_{c+1} = S_c + φ(k_c)ᵀ [v, 1]_c

The backward of the causal form walks the chunks from the last, carrying dS (the
gradient reaching the state that enters the chunk).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .linear_attention import causal_prefix, clamp_denominator

FeatureMap = Callable[[torch.Tensor], torch.Tensor]  # [..., N, d] -> [..., N, D]


def lean_linear_attention(q: torch.Tensor, k: torch.Tensor, v1: torch.Tensor, feature_map: FeatureMap,
                          causal: bool, denominator_floor: float, chunk: int) -> torch.Tensor:
    """q, k: [B, H, N, d]; v1: [B, H, N, d + 1] ([v, 1], padding rows zeroed) -> [B, H, N, d]."""
    out1 = _LeanLinearAttention.apply(q, k, v1, feature_map, causal, chunk)  # [B, H, N, d + 1]
    num, den = out1[..., :-1], out1[..., -1:]
    return num / clamp_denominator(den, denominator_floor)


def _chunks(n: int, chunk: int) -> list[slice]:
    return [slice(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def _within(phi_q, phi_k, v1c, causal):
    """One chunk's own contribution: all of it, or its causal prefix sums."""
    if causal:
        return causal_prefix(phi_q, phi_k, v1c)
    return phi_q @ (phi_k.transpose(-2, -1) @ v1c)


class _LeanLinearAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v1, feature_map, causal, chunk):
        parts = _chunks(q.shape[-2], chunk)
        out1 = torch.empty_like(v1)  # [B, H, N, e]
        states = []  # causal: the state entering each chunk, [B, H, D, e]
        state = None
        if not causal:
            for part in parts:  # KV over every key first
                kv_c = feature_map(k[..., part, :]).transpose(-2, -1) @ v1[..., part, :]
                state = kv_c if state is None else state + kv_c
            for part in parts:
                out1[..., part, :] = feature_map(q[..., part, :]) @ state
        else:
            for part in parts:
                phi_q, phi_k = feature_map(q[..., part, :]), feature_map(k[..., part, :])
                out = causal_prefix(phi_q, phi_k, v1[..., part, :])
                if state is not None:
                    out = out + phi_q @ state
                out1[..., part, :] = out
                states.append(state)
                kv_c = phi_k.transpose(-2, -1) @ v1[..., part, :]
                state = kv_c if state is None else state + kv_c
        ctx.save_for_backward(q, k, v1, *([state] if not causal else [s for s in states if s is not None]))
        ctx.feature_map, ctx.causal, ctx.chunk = feature_map, causal, chunk
        return out1

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g1):
        q, k, v1, *saved = ctx.saved_tensors
        fmap, parts = ctx.feature_map, _chunks(q.shape[-2], ctx.chunk)
        gq, gk, gv1 = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v1)
        if not ctx.causal:
            (kv,) = saved
            g_kv = None  # Σ_c φ(q_c)ᵀ g_c: what reaches KV
            for part in parts:
                with torch.enable_grad():
                    qc = q[..., part, :].detach().requires_grad_()
                    phi_q = fmap(qc)
                g = g1[..., part, :]
                (gq[..., part, :],) = torch.autograd.grad(phi_q, qc, g @ kv.transpose(-2, -1))
                g_kv_c = phi_q.detach().transpose(-2, -1) @ g
                g_kv = g_kv_c if g_kv is None else g_kv + g_kv_c
            for part in parts:
                with torch.enable_grad():
                    kc = k[..., part, :].detach().requires_grad_()
                    phi_k = fmap(kc)
                vc = v1[..., part, :]
                gv1[..., part, :] = phi_k.detach() @ g_kv
                (gk[..., part, :],) = torch.autograd.grad(phi_k, kc, vc @ g_kv.transpose(-2, -1))
            return gq, gk, gv1, None, None, None
        states = [None, *saved]  # the state entering each chunk
        d_state = None  # the gradient reaching the state that leaves chunk c
        for part, state in zip(reversed(parts), reversed(states), strict=True):
            g = g1[..., part, :]
            with torch.enable_grad():
                qc, kc, vc = (t[..., part, :].detach().requires_grad_() for t in (q, k, v1))
                phi_q, phi_k = fmap(qc), fmap(kc)
                out = causal_prefix(phi_q, phi_k, vc)
                if state is not None:
                    out = out + phi_q @ state  # the earlier chunks (the state is a constant here)
                outputs, grads = [out], [g]
                if d_state is not None:  # what the chunk adds to the state, seen by later chunks
                    outputs.append(phi_k.transpose(-2, -1) @ vc)
                    grads.append(d_state)
                gq[..., part, :], gk[..., part, :], gv1[..., part, :] = torch.autograd.grad(
                    outputs, (qc, kc, vc), grads)
            if state is not None:  # S_c reaches this chunk's output and, through S_{c+1}, every later one
                reach = phi_q.detach().transpose(-2, -1) @ g
                d_state = reach if d_state is None else d_state + reach
        return gq, gk, gv1, None, None, None
