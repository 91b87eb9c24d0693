"""Random Maclaurin features (Kar & Karnick 2012) for dot-product kernels.

φ(x) = [√a_0, (D−1)^-½ · √(a_{N_j}/P(N_j)) · Π_{i ≤ N_j} w_{j,i}ᵀx]_{j = 1..D−1}, with
N_j drawn from P(N) ∝ p^-(N+1) on 1..max_degree and Rademacher w, so that
E[φ(x)·φ(y)] = Σ_{n ≤ max_degree} a_n (x·y)ⁿ.

The reference feature map (the CPU's path): features are sorted by degree and
grouped. All Σ_j N_j projections are ONE matrix product x @ W; within a group of c
features of degree n the n·c projection columns are laid out as [n, c], and one
product over n gives the c features. The products have a hand-written backward
(`_GroupedProduct`): autograd's would keep a full-size zero gradient per slice and
use `prod`'s general (zero-safe) backward. A GPU computes the same features inside
the Triton kernels, from `triton_tables()` (feature_tables.py).

The draw (W, degrees, scales) is module state stored in buffers, so a checkpoint
fully determines the model: loading a state_dict replaces the draw, whatever seed
the receiving module was built with.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..kernels import check_kernel, maclaurin_coefficients
from .feature_tables import FeatureTables, build_tables

Groups = tuple[tuple[int, int, int, int], ...]  # (degree n, count c, first column, first feature)


def degree_probabilities(max_degree: int, p: float = 2.0) -> torch.Tensor:
    """P(N = n) ∝ p^-(n+1) for n = 1..max_degree (index 0 is n = 1), renormalised."""
    n = torch.arange(1, max_degree + 1, dtype=torch.float64)
    w = p ** -(n + 1)
    return w / w.sum()


class RandomMaclaurinFeatures(nn.Module):
    def __init__(
        self,
        head_dim: int,
        num_features: int = 128,
        kernel: str = "exp",
        max_degree: int = 20,
        p: float = 2.0,
        seed: int | None = None,
        importance_weights: bool = True,
    ):
        super().__init__()
        check_kernel(kernel)
        if num_features < 2:
            raise ValueError(f"num_features must be >= 2 (one constant + random ones), got {num_features}")
        if max_degree < 1:
            raise ValueError(f"max_degree must be >= 1, got {max_degree}")
        if p <= 1:
            raise ValueError(f"p must be > 1, got {p}")
        self.head_dim, self.num_features = head_dim, num_features
        self.kernel, self.max_degree, self.p = kernel, max_degree, p
        self.importance_weights = importance_weights
        a0 = maclaurin_coefficients(kernel, 0)
        # √a_0 follows from the kernel, so it is not part of the state_dict.
        self.register_buffer("constant", a0.sqrt().float(), persistent=False)
        # The draw: degrees and weights (placeholders; redraw() fills them).
        self.register_buffer("degrees", torch.zeros(0, dtype=torch.long))
        self.register_buffer("weights", torch.zeros(head_dim, 0))
        self._groups: Groups = ()
        self.redraw(seed)

    @torch.no_grad()
    def redraw(self, seed: int | None = None) -> None:
        """Make a new draw (from the global RNG, or from `seed`)."""
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        probs = degree_probabilities(self.max_degree, self.p)
        idx = torch.multinomial(probs, self.num_features - 1, replacement=True, generator=gen)
        degrees, _ = torch.sort(idx + 1)  # [D-1], ascending so equal degrees are adjacent
        scales = self._scales_of(degrees)
        total = int(degrees.sum())
        weights = torch.randint(0, 2, (self.head_dim, total), generator=gen).double() * 2 - 1
        groups = _make_groups(degrees)
        # Fold each feature's scale into the weights of its first factor, so the
        # products need no extra pass: column `row + j` is factor 0 of feature feat + j.
        for _, c, row, feat in groups:
            weights[:, row : row + c] *= scales[feat : feat + c]
        device = self.weights.device
        self.degrees = degrees.to(device)
        self.weights = weights.float().to(device)  # [d, Σ N_j]: Rademacher, scale folded in
        self._set_groups(groups)

    def _set_groups(self, groups: Groups) -> None:
        self._groups = groups
        self._tables: dict[tuple[int, str], FeatureTables] = {}  # the Triton layout, made on demand

    def triton_tables(self, feature_block: int) -> FeatureTables:
        """This draw laid out for the Triton kernels (rmf/feature_tables.py), cached."""
        key = (feature_block, str(self.weights.device))
        if key not in self._tables:
            weights = self.weights.detach().cpu()
            signs = [weights[:, row + j: row + n * c: c].sign()  # [d, n]: factor i at row + i·c + j
                     for n, c, row, _ in self._groups for j in range(c)]
            tables = build_tables(self.degrees.cpu(), signs, self.scales.cpu(), float(self.constant),
                                  feature_block)
            self._tables[key] = tables.ready(feature_block, self.weights.device)
        return self._tables[key]

    def _scales_of(self, degrees: torch.Tensor) -> torch.Tensor:
        """√(a_N / P(N)) / √(D−1) per feature, in float64.

        importance_weights=False leaves out the 1/P(N), as the authors' LRA code did in
        effect (two imports of their measure class made its isinstance check fail):
        the features then estimate Σ_n P(n)·a_n·tⁿ instead of f(t), for exp roughly
        proportional to exp(t/2).
        """
        a = maclaurin_coefficients(self.kernel, self.max_degree)
        probs = degree_probabilities(self.max_degree, self.p)
        degrees = degrees.cpu()
        weights = a[degrees] / probs[degrees - 1] if self.importance_weights else a[degrees]
        return weights.sqrt() / math.sqrt(self.num_features - 1)

    @property
    def scales(self) -> torch.Tensor:
        """Each random feature's scale (already folded into the weights of its first factor)."""
        return self._scales_of(self.degrees).to(self.weights)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The draw's size (Σ N_j columns) differs between draws: take the incoming
        # shapes before the default loader copies values in.
        for name in ("degrees", "weights"):
            if prefix + name in state_dict:
                incoming = state_dict[prefix + name]
                setattr(self, name, torch.empty_like(incoming, device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._set_groups(_make_groups(self.degrees.cpu()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., head_dim] -> [..., num_features]: the constant first, then the random
        features by ascending degree."""
        if x.dim() == 1:
            return self.forward(x.unsqueeze(0)).squeeze(0)
        return self.reference(x)

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        """The eager grouped product, one kernel per factor and degree group."""
        # Feature-major layout: each group's factors are then contiguous [c, N] blocks.
        proj_t = self.weights.t().to(x.dtype) @ x.transpose(-1, -2)  # [..., Σ N_j, N], one product
        phi_t = _GroupedProduct.apply(proj_t, self.constant.to(x.dtype), self._groups)  # [..., D, N]
        return phi_t.transpose(-1, -2)  # [..., N, D] (a view)

    def blocks(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The features of forward(x), split in blocks [..., N, D_b] along the feature axis.

        Degree-1 features are plain projections: taken straight from their own matrix
        product they need no copy into a combined tensor, forward or backward. Feature
        order differs from forward(x) (the constant sits with the products), which
        dot products φ(q)·φ(k), summed over blocks, do not see.
        """
        n, c1, _, _ = self._groups[0]
        if n != 1 or x.dim() == 1:
            return (self.forward(x),)
        weights = self.weights.to(x.dtype)
        linear = x @ weights[:, :c1]  # [..., N, c1]: the degree-1 features
        higher = tuple((n, c, row - c1, feat - c1) for n, c, row, feat in self._groups[1:])
        proj_t = weights[:, c1:].t() @ x.transpose(-1, -2)  # [..., Σ_{N_j ≥ 2} N_j, N]
        rest_t = _GroupedProduct.apply(proj_t, self.constant.to(x.dtype), higher)  # [..., 1 + D_≥2, N]
        return linear, rest_t.transpose(-1, -2)

    def extra_repr(self) -> str:
        return (f"head_dim={self.head_dim}, num_features={self.num_features}, kernel={self.kernel!r}, "
                f"max_degree={self.max_degree}, p={self.p}"
                + ("" if self.importance_weights else ", importance_weights=False"))


def _make_groups(degrees: torch.Tensor) -> Groups:
    groups, col, feat = [], 0, 0
    values, counts = torch.unique_consecutive(degrees, return_counts=True)
    for n, c in zip(values.tolist(), counts.tolist(), strict=True):
        groups.append((n, c, col, feat))
        col, feat = col + n * c, feat + c
    return tuple(groups)


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
