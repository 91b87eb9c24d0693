"""The fused random Maclaurin feature map: a few large products instead of one per degree.

The reference (`_GroupedProduct` in random_maclaurin.py) multiplies factors group
by group: for the degrees 1..K drawn, Σ_n (n − 1) small products forward and about
twice that backward, each a separate kernel launch. On a GPU at LRA sizes those
launches, not arithmetic, set the time.

Here the features are ordered by degree, highest first, and the projection columns
are laid out by *factor slot*: slot i holds factor i of every feature whose degree
exceeds i. Those features are a prefix of the order, so slot i is a block of
`counts[i]` columns (counts non-increasing, counts[0] = D − 1) and

    φ_j = Π_i slot_i[j]   over the slots i with j < counts[i].

Forward: one matrix product x @ W and K − 1 multiplies over nested prefixes, whatever
the number of features per degree. Backward recomputes the projection from x (a
cheap product) instead of saving it: the saved state is x, [..., N, d], not the
[..., N, Σ N_j] projection (about 2·D wide), which is most of the reference's
memory. Σ_j N_j columns in both layouts: nothing is padded.

The layout is a permutation of the reference's weight columns, derived from the
draw, so both paths share one state_dict.
"""

from __future__ import annotations

import torch

Groups = tuple[tuple[int, int, int, int], ...]  # (degree n, count c, first column, first feature)


def slot_layout(groups: Groups) -> tuple[torch.Tensor, tuple[int, ...], torch.Tensor]:
    """From the reference layout (features by ascending degree, each group's columns
    laid out [n, c]) to the slot layout.

    Returns (columns, counts, order): `columns` [Σ N_j] picks the reference weight
    columns in slot order; `counts[i]` features have a factor i; `order` [D − 1]
    gives, for each fused feature (descending degree), its reference index.
    """
    num_random = sum(c for _, c, _, _ in groups)
    # Reference feature f (ascending) becomes fused feature num_random - 1 - f.
    order = torch.arange(num_random - 1, -1, -1, dtype=torch.long)
    # Factor i of reference feature f sits in column first[f] + i * stride[f].
    degree, first, stride = (torch.empty(num_random, dtype=torch.long) for _ in range(3))
    for n, c, row, feat in groups:
        degree[feat: feat + c] = n
        first[feat: feat + c] = row + torch.arange(c)
        stride[feat: feat + c] = c
    fused_degree = degree[order]  # non-increasing
    counts, columns = [], []
    for i in range(int(fused_degree.max()) if num_random else 0):
        count = int((fused_degree > i).sum())  # a prefix of the order
        counts.append(count)
        features = order[:count]
        columns.append(first[features] + i * stride[features])
    columns = torch.cat(columns) if columns else torch.zeros(0, dtype=torch.long)
    return columns, tuple(counts), order


def slot_features(x: torch.Tensor, weights: torch.Tensor, constant: torch.Tensor,
                  counts: tuple[int, ...]) -> torch.Tensor:
    """x [..., N, d], slot-ordered weights [d, Σ N_j] -> φ [..., N, 1 + D − 1]
    (the constant first, then the random features by descending degree)."""
    if not counts:
        return constant.to(x.dtype).expand(*x.shape[:-1], 1)
    return _SlotProduct.apply(x, weights.to(x.dtype), constant.to(x.dtype), counts)


def _slots(proj: torch.Tensor, counts: tuple[int, ...]) -> list[torch.Tensor]:
    """[..., N, Σ N_j] -> the blocks [..., N, counts[i]], one per factor slot (views)."""
    return list(proj.split(list(counts), dim=-1))


class _SlotProduct(torch.autograd.Function):
    # Token-major throughout: x @ W and grad @ Wᵀ are single matrix products over all
    # tokens, and φ comes out contiguous for the attention's products.
    @staticmethod
    def forward(ctx, x, weights, constant, counts):
        slots = _slots(x @ weights, counts)  # [..., N, counts[i]]
        out = x.new_empty(*x.shape[:-1], 1 + counts[0])  # [..., N, D]
        out[..., 0] = constant
        if len(counts) == 1:
            out[..., 1:] = slots[0]
        else:
            c1 = counts[1]
            products = out[..., 1: 1 + c1]  # the features of degree ≥ 2
            torch.mul(slots[0][..., :c1], slots[1], out=products)
            for i in range(2, len(counts)):
                products[..., : counts[i]] *= slots[i]
            out[..., 1 + c1:] = slots[0][..., c1:]  # degree 1: the projection itself
        ctx.save_for_backward(x, weights)
        ctx.counts = counts
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_phi):
        x, weights = ctx.saved_tensors
        counts = ctx.counts
        slots = _slots(x @ weights, counts)  # recomputed, [..., N, counts[i]]
        grad_proj = x.new_empty(*x.shape[:-1], sum(counts))  # [..., N, Σ N_j]
        grads = _slots(grad_proj, counts)
        # prefix[i] = Π_{l < i} slot_l over the counts[i] features that have a factor i.
        prefix = [None, slots[0][..., : counts[1]]] if len(counts) > 1 else [None]
        for i in range(2, len(counts)):
            prefix.append(prefix[-1][..., : counts[i]] * slots[i - 1][..., : counts[i]])
        # Walking the slots from the last, `carry` = g · Π_{l > i} slot_l (exact where
        # a factor is zero, unlike dividing the product by it). It lives in slot 0's
        # gradient block, which it equals once every later slot is folded in.
        carry = grads[0]
        carry.copy_(grad_phi[..., 1:])  # the constant feature has no gradient
        for i in range(len(counts) - 1, 0, -1):
            head = carry[..., : counts[i]]
            torch.mul(head, prefix[i], out=grads[i])
            head *= slots[i]
        return grad_proj @ weights.t(), None, None, None  # [..., N, d]
