"""The backward Triton kernels of fused RMFA: dq of one chunk of queries, and dk, dv of
one chunk of keys, per program (two kernels: one holding both would spill registers).

With out_i = num_i / max(den_i, floor), gn_i = ∂L/∂num_i and gd_i = ∂L/∂den_i (made by
the caller from ∂L/∂out), S the key state and R = Σ φ(q_i)ᵀ gn_i the query state (of
the chunks before, resp. after, this one when causal; of all chunks otherwise):

    ∂φ(q_i) = S gn_i + z gd_i + Σ_{j ≤ i in chunk} dA_ij φ(k_j),  dA_ij = m_j (gn_i·v_j + gd_i)
    ∂φ(k_j) = m_j (R v_j + r) + Σ_{i ≥ j in chunk} dA_ij φ(q_i)
    ∂v_j    = m_j (φ(k_j) R + Σ_{i ≥ j in chunk} A_ij gn_i),      A_ij = φ(q_i)·φ(k_j)

(the sums within the chunk exist only in the causal form). The features are made
again tile by tile; their gradients go back through the products and ppSBN.
"""

from __future__ import annotations

import triton
import triton.language as tl

from .triton_kernels import (
    _chunk_program,
    _chunk_state,
    _features,
    _features_backward,
    _load_rows,
    _load_scaled,
    _load_vector,
    _mm,
    _prescale,
    _prescale_backward,
    _store_rows,
)


@triton.jit
def _backward_q_kernel(q_ptr, k_ptr, v_ptr, mask_ptr, gn_ptr, gd_ptr, state_ptr, zstate_ptr, dq_ptr,
                       signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, N, H, NC, DP, NT,
                       D_HEAD: tl.constexpr, BLK: tl.constexpr, BD: tl.constexpr, SCALE: tl.constexpr,
                       PPSBN: tl.constexpr, EPS: tl.constexpr, CAUSAL: tl.constexpr,
                       PROJ_BF16: tl.constexpr, ATT: tl.constexpr):
    """dq of one chunk of queries."""
    bh, c, b, row0 = _chunk_program(H, BLK)
    q = _load_rows(q_ptr, bh, row0, N, D_HEAD, BLK)
    xq = _prescale(q, SCALE, PPSBN, D_HEAD, EPS)
    gn = _load_rows(gn_ptr, bh, row0, N, D_HEAD, BLK)
    gd = _load_vector(gd_ptr, bh, row0, N, BLK)
    if CAUSAL:
        xk = _load_scaled(k_ptr, bh, row0, N, D_HEAD, BLK, SCALE, PPSBN, EPS)
        v = _load_rows(v_ptr, bh, row0, N, D_HEAD, BLK)
        m = _load_vector(mask_ptr, b, row0, N, BLK)
        i = tl.arange(0, BLK)
        dA = tl.where(i[:, None] >= i[None, :], (_mm(gn, tl.trans(v), ATT) + gd[:, None]) * m[None, :], 0.0)
    dxq = tl.zeros((BLK, D_HEAD), tl.float32)
    for t in range(NT):
        s, z = _chunk_state(state_ptr, zstate_ptr, bh, c, t, NC, DP, D_HEAD, BD, CAUSAL)
        dphi_q = _mm(gn, tl.trans(s), ATT) + gd[:, None] * z[None, :]
        if CAUSAL:
            phi_k = _features(xk, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK,
                              PROJ_BF16)
            dphi_q += _mm(dA, phi_k, ATT)
        dxq += _features_backward(xq, dphi_q, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD,
                                  DP, BD, BLK, PROJ_BF16)
    _store_rows(dq_ptr, _prescale_backward(q, dxq, SCALE, PPSBN, D_HEAD, EPS), bh, row0, N, D_HEAD, BLK)


@triton.jit
def _backward_kv_kernel(q_ptr, k_ptr, v_ptr, mask_ptr, gn_ptr, gd_ptr, rstate_ptr, rzstate_ptr,
                        dk_ptr, dv_ptr, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, N, H, NC, DP, NT,
                        D_HEAD: tl.constexpr, BLK: tl.constexpr, BD: tl.constexpr, SCALE: tl.constexpr,
                        PPSBN: tl.constexpr, EPS: tl.constexpr, CAUSAL: tl.constexpr,
                        PROJ_BF16: tl.constexpr, ATT: tl.constexpr):
    """dk and dv of one chunk of keys."""
    bh, c, b, row0 = _chunk_program(H, BLK)
    k = _load_rows(k_ptr, bh, row0, N, D_HEAD, BLK)
    xk = _prescale(k, SCALE, PPSBN, D_HEAD, EPS)
    v = _load_rows(v_ptr, bh, row0, N, D_HEAD, BLK)
    m = _load_vector(mask_ptr, b, row0, N, BLK)
    if CAUSAL:
        xq = _load_scaled(q_ptr, bh, row0, N, D_HEAD, BLK, SCALE, PPSBN, EPS)
        gn = _load_rows(gn_ptr, bh, row0, N, D_HEAD, BLK)
        gd = _load_vector(gd_ptr, bh, row0, N, BLK)
        i = tl.arange(0, BLK)
        # dAᵀ: [keys j, queries i]
        dAt = tl.where(i[None, :] >= i[:, None],
                       (_mm(v, tl.trans(gn), ATT) + gd[None, :]) * m[:, None], 0.0)
        scores_t = tl.zeros((BLK, BLK), tl.float32)  # φ(k_j)·φ(q_i), [keys, queries]
    dxk = tl.zeros((BLK, D_HEAD), tl.float32)
    dv = tl.zeros((BLK, D_HEAD), tl.float32)
    for t in range(NT):
        r, rz = _chunk_state(rstate_ptr, rzstate_ptr, bh, c, t, NC, DP, D_HEAD, BD, CAUSAL)
        phi_k = _features(xk, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK,
                          PROJ_BF16)
        dv += _mm(phi_k, r, ATT)
        dphi_k = (_mm(v, tl.trans(r), ATT) + rz[None, :]) * m[:, None]
        if CAUSAL:
            phi_q = _features(xq, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK,
                              PROJ_BF16)
            dphi_k += _mm(dAt, phi_q, ATT)
            scores_t += _mm(phi_k, tl.trans(phi_q), ATT)
        dxk += _features_backward(xk, dphi_k, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD,
                                  DP, BD, BLK, PROJ_BF16)
    if CAUSAL:
        dv += _mm(tl.where(i[None, :] >= i[:, None], scores_t, 0.0), gn, ATT)
    dv = dv * m[:, None]
    _store_rows(dk_ptr, _prescale_backward(k, dxk, SCALE, PPSBN, D_HEAD, EPS), bh, row0, N, D_HEAD, BLK)
    _store_rows(dv_ptr, dv, bh, row0, N, D_HEAD, BLK)
