"""A random Maclaurin draw laid out for the Triton kernels: features by descending
degree in tiles, one ±1 projection per factor.

For features p (the constant √a_0 first, then the random ones by descending degree,
padded to whole tiles):

    φ_p(x) = scale_p · Π_{i < K_t} (x · W[i, :, p] + B[i, p])

W[i, :, p] is the Rademacher vector of factor i of feature p, or 0 with B[i, p] = 1 when
p has at most i factors; the constant has no factor but B[0, p] = 1. K_t, the number
of factors tile t runs over, is its highest degree (that of its first feature), so
later tiles (degree 1 or 2) cost one or two projections. Padding features have scale
0. W (`signs`) holds only ±1 and 0 and B (`bias`) only 0 and 1, exact in bf16; the
scales stay in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FeatureTables:
    signs: torch.Tensor  # [K_max, d, P]: ±1, or 0 where the feature has no such factor
    bias: torch.Tensor  # [K_max, P]: 0, or 1 where it has none
    scale: torch.Tensor  # [P]: √a_0 for the constant, √(a_N / P(N)) / √(D − 1), 0 for padding
    tile_degrees: torch.Tensor  # [P / feature_block] int32: K_t, each tile's highest degree
    feature_block: int

    @property
    def padded(self) -> int:
        return self.scale.shape[0]

    @property
    def num_tiles(self) -> int:
        return self.tile_degrees.shape[0]

    def pointers(self) -> tuple[torch.Tensor, ...]:
        return self.signs, self.bias, self.scale, self.tile_degrees

    def ready(self, feature_block: int, device: torch.device) -> FeatureTables:
        if feature_block != self.feature_block:
            raise ValueError(f"tables built for feature_block {self.feature_block}, not {feature_block}")
        if self.scale.device == torch.device(device):
            return self
        return FeatureTables(*(t.to(device) for t in self.pointers()), feature_block)


def build_tables(degrees: torch.Tensor, signs: list[torch.Tensor], scales: torch.Tensor,
                 constant: float, feature_block: int) -> FeatureTables:
    """degrees [D − 1] ascending; signs[f]: [d, degrees[f]] the factors of feature f;
    scales [D − 1]; constant √a_0."""
    num_random = degrees.shape[0]
    d = signs[0].shape[0] if signs else 1
    order = list(range(num_random - 1, -1, -1))  # descending degree
    total = 1 + num_random
    padded = -(-total // feature_block) * feature_block
    k_max = int(degrees.max()) if num_random else 1
    signs_table = torch.zeros(k_max, d, padded, dtype=torch.float32)
    bias = torch.ones(k_max, padded, dtype=torch.float32)
    scale = torch.zeros(padded, dtype=torch.float32)
    scale[0] = constant
    degree_of = torch.zeros(padded, dtype=torch.long)
    degree_of[0] = 1  # the constant: one factor, 0 · x + 1
    for p, f in enumerate(order, start=1):
        n = int(degrees[f])
        signs_table[:n, :, p] = signs[f].t().float()
        bias[:n, p] = 0.0
        scale[p] = float(scales[f])
        degree_of[p] = n
    degree_of[total:] = 1  # padding: one factor (1), times scale 0
    tile_degrees = degree_of.view(-1, feature_block).max(dim=1).values.to(torch.int32)
    return FeatureTables(signs_table, bias, scale, tile_degrees, feature_block)
