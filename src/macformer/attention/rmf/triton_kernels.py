"""Triton kernels of fused RMFA: ppSBN pre-scaling, random Maclaurin features, the
key-value state and the normalised output, forward and backward, in registers.

Features come in tiles of BD columns. Tile t of φ(x), for BLK tokens at once, is

    φ_t = scale_t ⊙ Π_{i < K_t} (x @ W[i, :, t] + B[i, t])          [BLK, BD]

where W[i] (the tables' `signs`) holds the ±1 projection of factor i of each feature,
or 0 with bias B = 1 (`bias`) where a feature has fewer than i + 1 factors (so the
product skips it), and K_t (`tile_degrees`) is the tile's highest degree; features are
ordered by descending degree, so the later tiles run over few factors. The products
stay in fp32 registers: no [tokens, Σ N_j] tensor ever reaches memory.

The backward of a product of K factors uses the product of the non-zero factors and
the count of zero ones: ∂/∂F_i = P / F_i when none is zero, P_nonzero for the one
zero factor when exactly one is, else 0. Exact where a factor is 0, no prefix list.

Precision (constexpr): PROJ_BF16 splits x in two bf16 terms (hi + lo) for the ±1
projections (exact in bf16), which gives fp32-level projections on tensor cores;
ATT is the precision of the attention products (φ with the states): "ieee" (fp32),
"bf16x3" (hi/lo splits, three bf16 products) or "bf16" (one).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _mm(a, b, ATT: tl.constexpr):
    """a @ b in fp32, at the attention precision."""
    if ATT == "ieee":
        return tl.dot(a, b, input_precision="ieee")
    elif ATT == "bf16":
        return tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16))
    else:  # bf16x3: (a_hi + a_lo)(b_hi + b_lo) without the lo·lo term
        a_hi = a.to(tl.bfloat16)
        b_hi = b.to(tl.bfloat16)
        a_lo = (a - a_hi.to(tl.float32)).to(tl.bfloat16)
        b_lo = (b - b_hi.to(tl.float32)).to(tl.bfloat16)
        return tl.dot(a_hi, b_hi) + tl.dot(a_hi, b_lo) + tl.dot(a_lo, b_hi)


@triton.jit
def _proj(x, signs, PROJ_BF16: tl.constexpr):
    """x [BLK, d] fp32 @ signs (±1 or 0, exact in bf16) in fp32."""
    if PROJ_BF16:
        x_hi = x.to(tl.bfloat16)
        x_lo = (x - x_hi.to(tl.float32)).to(tl.bfloat16)
        signs_bf16 = signs.to(tl.bfloat16)
        return tl.dot(x_hi, signs_bf16) + tl.dot(x_lo, signs_bf16)
    else:
        return tl.dot(x, signs, input_precision="ieee")


@triton.jit
def _load_rows(ptr, bh, row0, N, D_HEAD: tl.constexpr, BLK: tl.constexpr):
    """Rows row0..row0+BLK of a [BH, N, D_HEAD] tensor as fp32 (zeros past N)."""
    rows = row0 + tl.arange(0, BLK)
    cols = tl.arange(0, D_HEAD)
    ptrs = ptr + (bh * N + rows[:, None]) * D_HEAD + cols[None, :]
    return tl.load(ptrs, mask=rows[:, None] < N, other=0.0).to(tl.float32)


@triton.jit
def _store_rows(ptr, val, bh, row0, N, D_HEAD: tl.constexpr, BLK: tl.constexpr):
    rows = row0 + tl.arange(0, BLK)
    cols = tl.arange(0, D_HEAD)
    ptrs = ptr + (bh * N + rows[:, None]) * D_HEAD + cols[None, :]
    tl.store(ptrs, val.to(ptr.dtype.element_ty), mask=rows[:, None] < N)


@triton.jit
def _load_vector(ptr, bh, row0, N, BLK: tl.constexpr):
    """Entries row0..row0+BLK of a [BH, N] tensor as fp32 (zeros past N)."""
    rows = row0 + tl.arange(0, BLK)
    return tl.load(ptr + bh * N + rows, mask=rows < N, other=0.0).to(tl.float32)


@triton.jit
def _prescale(x, SCALE: tl.constexpr, PPSBN: tl.constexpr, D_HEAD: tl.constexpr, EPS: tl.constexpr):
    """ppSBN pre-scaling: centre, unit ℓ2 norm, × d^-1/4 (or only × d^-1/4)."""
    if PPSBN:
        c = x - tl.sum(x, axis=1)[:, None] / D_HEAD
        norm = tl.sqrt(tl.sum(c * c, axis=1))
        return c * (SCALE / (norm + EPS))[:, None]
    else:
        return x * SCALE


@triton.jit
def _load_scaled(ptr, bh, row0, N, D_HEAD: tl.constexpr, BLK: tl.constexpr, SCALE: tl.constexpr,
                 PPSBN: tl.constexpr, EPS: tl.constexpr):
    """_load_rows, pre-scaled: what the feature map of those rows sees."""
    return _prescale(_load_rows(ptr, bh, row0, N, D_HEAD, BLK), SCALE, PPSBN, D_HEAD, EPS)


@triton.jit
def _chunk_program(H, BLK: tl.constexpr):
    """A program of a [BH, NC] grid: (batch·head, chunk, batch, first row of the chunk)."""
    bh = tl.program_id(0)
    c = tl.program_id(1)
    return bh, c, bh // H, c * BLK


@triton.jit
def _prescale_backward(x, dxs, SCALE: tl.constexpr, PPSBN: tl.constexpr, D_HEAD: tl.constexpr,
                       EPS: tl.constexpr):
    """The gradient reaching the raw rows x from the gradient dxs of the scaled rows."""
    if PPSBN:
        c = x - tl.sum(x, axis=1)[:, None] / D_HEAD
        norm = tl.sqrt(tl.sum(c * c, axis=1))
        r = SCALE / (norm + EPS)
        # ∂(r c)/∂c = r I − SCALE / ((n + ε)² n) c cᵀ (the second term is 0 where c = 0)
        coef = tl.where(norm > 0, SCALE / ((norm + EPS) * (norm + EPS) * tl.where(norm > 0, norm, 1.0)), 0.0)
        dc = dxs * r[:, None] - (coef * tl.sum(c * dxs, axis=1))[:, None] * c
        return dc - tl.sum(dc, axis=1)[:, None] / D_HEAD
    else:
        return dxs * SCALE


@triton.jit
def _factor(x, signs_ptr, bias_ptr, i, t, D_HEAD: tl.constexpr, DP, BD: tl.constexpr,
            PROJ_BF16: tl.constexpr):
    """Factor i of the features of tile t: x @ W[i, :, tile] + B[i, tile], [BLK, BD]."""
    cols = t * BD + tl.arange(0, BD)
    dims = tl.arange(0, D_HEAD)
    signs = tl.load(signs_ptr + (i * D_HEAD + dims[:, None]) * DP + cols[None, :])  # [d, BD]
    bias = tl.load(bias_ptr + i * DP + cols)  # [BD]
    return _proj(x, signs, PROJ_BF16) + bias[None, :]


@triton.jit
def _features(x, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD: tl.constexpr, DP,
              BD: tl.constexpr, BLK: tl.constexpr, PROJ_BF16: tl.constexpr):
    """φ_t(x) [BLK, BD]."""
    degree = tl.load(tile_degrees_ptr + t)
    phi = tl.load(scale_ptr + t * BD + tl.arange(0, BD))[None, :] + tl.zeros((BLK, BD), tl.float32)
    for i in range(degree):
        phi = phi * _factor(x, signs_ptr, bias_ptr, i, t, D_HEAD, DP, BD, PROJ_BF16)
    return phi


@triton.jit
def _features_backward(x, dphi, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t,
                       D_HEAD: tl.constexpr, DP, BD: tl.constexpr, BLK: tl.constexpr,
                       PROJ_BF16: tl.constexpr):
    """The gradient reaching x [BLK, d] from dφ_t [BLK, BD]. Two passes over the factors
    (made again rather than kept: registers are the scarce resource): the product of
    the non-zero ones and the zero count, then each factor's share."""
    degree = tl.load(tile_degrees_ptr + t)
    nonzero = tl.full((BLK, BD), 1.0, tl.float32)
    zeros = tl.zeros((BLK, BD), tl.float32)
    for i in range(degree):
        f = _factor(x, signs_ptr, bias_ptr, i, t, D_HEAD, DP, BD, PROJ_BF16)
        is_zero = f == 0.0
        nonzero = nonzero * tl.where(is_zero, 1.0, f)
        zeros += is_zero.to(tl.float32)
    scale = tl.load(scale_ptr + t * BD + tl.arange(0, BD))
    g = dphi * scale[None, :]
    dx = tl.zeros((BLK, D_HEAD), tl.float32)
    cols = t * BD + tl.arange(0, BD)
    dims = tl.arange(0, D_HEAD)
    for i in range(degree):
        f = _factor(x, signs_ptr, bias_ptr, i, t, D_HEAD, DP, BD, PROJ_BF16)
        is_zero = f == 0.0
        # Π_{l ≠ i} F_l: P / F_i with no zero factor; P_nonzero for the only zero one.
        others = tl.where(zeros == 0.0, nonzero / tl.where(is_zero, 1.0, f),
                          tl.where((zeros == 1.0) & is_zero, nonzero, 0.0))
        signs_t = tl.load(signs_ptr + (i * D_HEAD + dims[None, :]) * DP + cols[:, None])  # [BD, d] = W_iᵀ
        dx += _proj(g * others, signs_t, PROJ_BF16)
    return dx


@triton.jit
def _state_kernel(x_ptr, v_ptr, z_ptr, state_ptr, zstate_ptr, signs_ptr, bias_ptr, scale_ptr,
                  tile_degrees_ptr, N, H, NC, DP,
                  D_HEAD: tl.constexpr, BLK: tl.constexpr, BD: tl.constexpr, SCALE: tl.constexpr,
                  PPSBN: tl.constexpr, EPS: tl.constexpr, MASK_V: tl.constexpr, PROJ_BF16: tl.constexpr,
                  ATT: tl.constexpr):
    """Tile t of one chunk's φ(x)ᵀ v and φ(x)ᵀ z, [BH, NC, DP, d] and [BH, NC, DP]: every
    (batch·head, tile, chunk) in parallel; the caller sums or prefix-sums over chunks.

    Forward: x = k, v = v, z = mask (MASK_V: v is masked too). Backward: x = q,
    v = ∂/∂numerator, z = ∂/∂denominator.
    """
    bh = tl.program_id(0)
    t = tl.program_id(1)
    c = tl.program_id(2)
    b = bh // H
    row0 = c * BLK
    x = _load_scaled(x_ptr, bh, row0, N, D_HEAD, BLK, SCALE, PPSBN, EPS)
    phi = _features(x, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK, PROJ_BF16)
    v = _load_rows(v_ptr, bh, row0, N, D_HEAD, BLK)
    z = _load_vector(z_ptr, b if MASK_V else bh, row0, N, BLK)
    if MASK_V:
        v = v * z[:, None]
    cols = t * BD + tl.arange(0, BD)
    dims = tl.arange(0, D_HEAD)
    out = state_ptr + ((bh * NC + c) * DP + cols[:, None]) * D_HEAD + dims[None, :]
    tl.store(out, _mm(tl.trans(phi), v, ATT))
    tl.store(zstate_ptr + (bh * NC + c) * DP + cols, tl.sum(phi * z[:, None], axis=0))


@triton.jit
def _chunk_state(state_ptr, zstate_ptr, bh, c, t, NC, DP, D_HEAD: tl.constexpr, BD: tl.constexpr,
                 CAUSAL: tl.constexpr):
    """Tile t of the state a chunk sees: [BD, d] and [BD]."""
    cols = t * BD + tl.arange(0, BD)
    dims = tl.arange(0, D_HEAD)
    base = bh * NC + c if CAUSAL else bh
    s = tl.load(state_ptr + (base * DP + cols[:, None]) * D_HEAD + dims[None, :])
    z = tl.load(zstate_ptr + base * DP + cols)
    return s, z


@triton.jit
def _output_kernel(q_ptr, k_ptr, v_ptr, mask_ptr, state_ptr, zstate_ptr, out_ptr, den_ptr,
                   signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, N, H, NC, DP, NT, FLOOR,
                   D_HEAD: tl.constexpr, BLK: tl.constexpr, BD: tl.constexpr, SCALE: tl.constexpr,
                   PPSBN: tl.constexpr, EPS: tl.constexpr, CAUSAL: tl.constexpr,
                   PROJ_BF16: tl.constexpr, ATT: tl.constexpr):
    """out = num / max(den, floor) for one chunk of queries; den is kept for the backward."""
    bh, c, b, row0 = _chunk_program(H, BLK)
    xq = _load_scaled(q_ptr, bh, row0, N, D_HEAD, BLK, SCALE, PPSBN, EPS)
    num = tl.zeros((BLK, D_HEAD), tl.float32)
    den = tl.zeros((BLK,), tl.float32)
    scores = tl.zeros((BLK, BLK), tl.float32)  # causal: φ(q_i)·φ(k_j) within the chunk
    if CAUSAL:
        xk = _load_scaled(k_ptr, bh, row0, N, D_HEAD, BLK, SCALE, PPSBN, EPS)
    for t in range(NT):
        phi_q = _features(xq, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK,
                          PROJ_BF16)
        s, z = _chunk_state(state_ptr, zstate_ptr, bh, c, t, NC, DP, D_HEAD, BD, CAUSAL)
        num += _mm(phi_q, s, ATT)
        den += tl.sum(phi_q * z[None, :], axis=1)
        if CAUSAL:
            phi_k = _features(xk, signs_ptr, bias_ptr, scale_ptr, tile_degrees_ptr, t, D_HEAD, DP, BD, BLK,
                              PROJ_BF16)
            scores += _mm(phi_q, tl.trans(phi_k), ATT)
    if CAUSAL:
        m = _load_vector(mask_ptr, b, row0, N, BLK)
        i = tl.arange(0, BLK)
        scores = tl.where(i[:, None] >= i[None, :], scores, 0.0) * m[None, :]
        v = _load_rows(v_ptr, bh, row0, N, D_HEAD, BLK)
        num += _mm(scores, v, ATT)
        den += tl.sum(scores, axis=1)
    out = num / tl.maximum(den, FLOOR)[:, None]
    _store_rows(out_ptr, out, bh, row0, N, D_HEAD, BLK)
    rows = row0 + tl.arange(0, BLK)
    tl.store(den_ptr + bh * N + rows, den, mask=rows < N)
