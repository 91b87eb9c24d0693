"""The reference feature map of a random Maclaurin draw, in PyTorch: features sorted by
degree and grouped.

All Σ_j N_j projections are ONE matrix product x @ W; within a group of c features of
degree n the n·c projection columns are laid out as [n, c], and one product over n
gives the c features. The products have a hand-written backward (`_GroupedProduct`):
autograd's would keep a full-size zero gradient per slice and use `prod`'s general
(zero-safe) backward. The Triton kernels compute the same features from the draw's
tables instead (feature_tables.py).
"""

from __future__ import annotations

import torch

Groups = tuple[tuple[int, int, int, int], ...]  # (degree n, count c, first column, first feature)


def make_groups(degrees: torch.Tensor) -> Groups:
    """The groups of equal degree of `degrees` (ascending), with their first column and feature."""
    groups, col, feat = [], 0, 0
    values, counts = torch.unique_consecutive(degrees, return_counts=True)
    for n, c in zip(values.tolist(), counts.tolist(), strict=True):
        groups.append((n, c, col, feat))
        col, feat = col + n * c, feat + c
    return tuple(groups)


def grouped_features(x: torch.Tensor, weights: torch.Tensor, constant: torch.Tensor,
                     groups: Groups) -> torch.Tensor:
    """x [..., N, d] -> φ(x) [..., N, D]: the constant first, then the random features by
    ascending degree. weights [d, Σ N_j] (each feature's scale folded into its factor 0)."""
    # Feature-major layout: each group's factors are then contiguous [c, N] blocks.
    proj_t = weights.t().to(x.dtype) @ x.transpose(-1, -2)  # [..., Σ N_j, N], one product
    phi_t = _GroupedProduct.apply(proj_t, constant.to(x.dtype), groups)  # [..., D, N]
    return phi_t.transpose(-1, -2)  # [..., N, D] (a view)


def degree_one_apart(x: torch.Tensor, weights: torch.Tensor, constant: torch.Tensor,
                     groups: Groups) -> tuple[torch.Tensor, torch.Tensor]:
    """φ(x) in two blocks [..., N, D_b]: the degree-1 features, then the constant with the
    higher degrees. groups[0] must be the degree-1 group.

    Degree-1 features are plain projections: taken straight from their own matrix
    product they need no copy into a combined tensor, forward or backward. Feature
    order differs from grouped_features (the constant sits with the products), which
    dot products φ(q)·φ(k), summed over blocks, do not see.
    """
    _, c1, _, _ = groups[0]
    weights = weights.to(x.dtype)
    linear = x @ weights[:, :c1]  # [..., N, c1]: the degree-1 features
    higher = tuple((n, c, row - c1, feat - c1) for n, c, row, feat in groups[1:])
    proj_t = weights[:, c1:].t() @ x.transpose(-1, -2)  # [..., Σ_{N_j ≥ 2} N_j, N]
    rest_t = _GroupedProduct.apply(proj_t, constant.to(x.dtype), higher)  # [..., 1 + D_≥2, N]
    return linear, rest_t.transpose(-1, -2)


class _GroupedProduct(torch.autograd.Function):
    """proj_t [..., Σ N_j, N] -> [..., D, N]: row 0 the constant √a_0, row 1 + j the
    product of the N_j projection rows of feature j (its scale is already in them)."""

    @staticmethod
    def forward(ctx, proj_t, constant, groups):
        num_random = sum(c for _, c, _, _ in groups)  # may be 0: then only the constant
        out = proj_t.new_empty(*proj_t.shape[:-2], 1 + num_random, proj_t.shape[-1])
        out[..., 0, :] = constant
        for n, c, row, feat in groups:
            factors = proj_t[..., row : row + n * c, :].unflatten(-2, (n, c))  # [..., n, c, N]
            target = out[..., 1 + feat : 1 + feat + c, :]
            if n == 1:
                target.copy_(factors[..., 0, :, :])
                continue
            acc = factors[..., 0, :, :]
            for i in range(1, n - 1):
                acc = acc * factors[..., i, :, :]
            torch.mul(acc, factors[..., n - 1, :, :], out=target)
        ctx.save_for_backward(proj_t)
        ctx.groups = groups
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        (proj_t,) = ctx.saved_tensors
        # The gradient of a transposed output arrives token-major; one copy to the
        # feature-major layout makes every product below read contiguous memory.
        grad_out = grad_out.contiguous()
        grad = torch.empty_like(proj_t)
        for n, c, row, feat in ctx.groups:
            g = grad_out[..., 1 + feat : 1 + feat + c, :]  # [..., c, N]
            factors = proj_t[..., row : row + n * c, :].unflatten(-2, (n, c))  # [..., n, c, N]
            target = grad[..., row : row + n * c, :].unflatten(-2, (n, c))
            # ∂/∂factor_i = g · (product of factors before i) · (product after i): exact
            # even where a factor is zero, unlike dividing the product by factor_i.
            before = [g]  # before[i] = g · Π_{l<i} factor_l
            for i in range(1, n):
                before.append(before[-1] * factors[..., i - 1, :, :])
            after = None  # Π_{l>i} factor_l
            for i in range(n - 1, -1, -1):
                if after is None:
                    target[..., i, :, :].copy_(before[i])
                    after = factors[..., i, :, :]
                else:
                    torch.mul(before[i], after, out=target[..., i, :, :])
                    if i > 0:
                        after = after * factors[..., i, :, :]
        return grad, None, None
