"""Random Maclaurin features (Kar & Karnick 2012) for dot-product kernels: the draw.

φ(x) = [√a_0, (D−1)^-½ · √(a_{N_j}/P(N_j)) · Π_{i ≤ N_j} w_{j,i}ᵀx]_{j = 1..D−1}, with
N_j drawn from P(N) ∝ p^-(N+1) on 1..max_degree and Rademacher w, so that
E[φ(x)·φ(y)] = Σ_{n ≤ max_degree} a_n (x·y)ⁿ.

The draw (W, degrees, scales) is module state stored in buffers, so a checkpoint
fully determines the model: loading a state_dict replaces the draw, whatever seed
the receiving module was built with. It is laid out twice: sorted by degree in
groups for the PyTorch feature map (`forward`, `blocks`: grouped_features.py), and in
tiles for the Triton kernels (`triton_tables()`: feature_tables.py).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..kernels import check_kernel, maclaurin_coefficients
from .feature_tables import FeatureTables, build_tables
from .grouped_features import Groups, degree_one_apart, grouped_features, make_groups


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
        groups = make_groups(degrees)
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
        self._set_groups(make_groups(self.degrees.cpu()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., head_dim] -> [..., num_features]: the constant first, then the random
        features by ascending degree."""
        if x.dim() == 1:
            return self.forward(x.unsqueeze(0)).squeeze(0)
        return grouped_features(x, self.weights, self.constant, self._groups)

    def blocks(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The features of forward(x), split in blocks [..., N, D_b] along the feature axis
        (the degree-1 features apart, with no copy: grouped_features.degree_one_apart)."""
        n, _, _, _ = self._groups[0]
        if n != 1 or x.dim() == 1:
            return (self.forward(x),)
        return degree_one_apart(x, self.weights, self.constant, self._groups)

    def extra_repr(self) -> str:
        return (f"head_dim={self.head_dim}, num_features={self.num_features}, kernel={self.kernel!r}, "
                f"max_degree={self.max_degree}, p={self.p}"
                + ("" if self.importance_weights else ", importance_weights=False"))

