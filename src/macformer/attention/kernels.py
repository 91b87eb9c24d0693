"""Dot-product kernels f(x·y) = Σ a_n (x·y)ⁿ and their Maclaurin coefficients.

The five kernels of the Macformer authors' code (Guo et al., 2024). Every a_n is a
closed form; all are non-negative, which random Maclaurin features require.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


def _exp_coefficients(n: torch.Tensor) -> torch.Tensor:
    return torch.exp(-torch.lgamma(n + 1))  # 1/n!


def _log_coefficients(n: torch.Tensor) -> torch.Tensor:
    a = 1.0 / n.clamp(min=1)  # 1 - log(1-t) = 1 + Σ_{n≥1} tⁿ/n
    a[0] = 1.0
    return a


def _sqrt_coefficients(n: torch.Tensor) -> torch.Tensor:
    # 2 - √(1-t) = 1 + Σ_{n≥1} |binom(1/2, n)| tⁿ, and
    # |binom(1/2, n)| = (2n)! / ((2n - 1) 4ⁿ (n!)²) for n ≥ 1.
    m = n.clamp(min=1)
    log_a = torch.lgamma(2 * m + 1) - torch.log(2 * m - 1) - m * math.log(4) - 2 * torch.lgamma(m + 1)
    a = torch.exp(log_a)
    a[0] = 1.0
    return a


@dataclass(frozen=True)
class Kernel:
    """One kernel, in one place: where its series converges (|t| < radius), its
    coefficients a_n for n = 0, 1, ... (float64), and its exact value f(t)."""

    radius: float
    coefficients: Callable[[torch.Tensor], torch.Tensor]
    value: Callable[[torch.Tensor], torch.Tensor]


# A new kernel is one entry here plus conf/kernel/<name>.yaml.
KERNEL_TABLE: dict[str, Kernel] = {
    "exp": Kernel(math.inf, _exp_coefficients, torch.exp),
    "inverse": Kernel(1.0, torch.ones_like, lambda t: 1.0 / (1.0 - t)),  # 1/(1-t) = Σ tⁿ
    "log": Kernel(1.0, _log_coefficients, lambda t: 1.0 - torch.log1p(-t)),
    # cosh t + sinh t = eᵗ: the coefficients are exp's.
    "trigh": Kernel(math.inf, _exp_coefficients, lambda t: torch.cosh(t) + torch.sinh(t)),
    "sqrt": Kernel(1.0, _sqrt_coefficients, lambda t: 2.0 - torch.sqrt(1.0 - t)),
}
KERNELS: tuple[str, ...] = tuple(KERNEL_TABLE)
# |t| < radius is where the Maclaurin series of f converges.
RADIUS_OF_CONVERGENCE: dict[str, float] = {name: k.radius for name, k in KERNEL_TABLE.items()}


def check_kernel(kernel: str) -> str:
    """Return `kernel` if it is known, else raise a ValueError listing the known ones."""
    if kernel not in KERNEL_TABLE:
        raise ValueError(f"unknown kernel {kernel!r}; allowed kernels: {', '.join(KERNELS)}")
    return kernel


def radius_of_convergence(kernel: str) -> float:
    return KERNEL_TABLE[check_kernel(kernel)].radius


def maclaurin_coefficients(kernel: str, max_degree: int) -> torch.Tensor:
    """a_0 .. a_max_degree of `kernel` as a float64 tensor of length max_degree + 1."""
    check_kernel(kernel)
    if max_degree < 0:
        raise ValueError(f"max_degree must be >= 0, got {max_degree}")
    return KERNEL_TABLE[kernel].coefficients(torch.arange(max_degree + 1, dtype=torch.float64))


def kernel_value(kernel: str, t: torch.Tensor) -> torch.Tensor:
    """The exact f(t) (not the truncated series).

    A kernel with a finite radius (inverse, log, sqrt) is only defined for t < radius:
    larger t raises a ValueError naming the kernel and its radius instead of returning
    inf or NaN.
    """
    spec = KERNEL_TABLE[check_kernel(kernel)]
    t = torch.as_tensor(t)
    if math.isfinite(spec.radius) and bool((t >= spec.radius).any()):
        raise ValueError(
            f"kernel {kernel!r} is undefined for t >= {spec.radius:g} (radius of convergence "
            f"{spec.radius:g}); got max t = {float(t.max()):.4g}. Scale the inputs (ppSBN) first."
        )
    return spec.value(t)


def evaluate_series(coefficients: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Σ_n c_n tⁿ by Horner's rule (no [..., degree] tensor of powers)."""
    out = torch.full_like(t, float(coefficients[-1]))
    for c in coefficients.flip(0)[1:].tolist():
        out = out * t + c
    return out


def truncated_kernel_value(kernel: str, t: torch.Tensor, max_degree: int) -> torch.Tensor:
    """Σ_{n ≤ max_degree} a_n tⁿ, the quantity RMF estimates without bias."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return evaluate_series(maclaurin_coefficients(kernel, max_degree), t)
