"""Dot-product kernels f(x·y) = Σ a_n (x·y)ⁿ and their Maclaurin coefficients.

The five kernels of the Macformer authors' code (Guo et al., 2024). Every a_n is a
closed form; all are non-negative, which random Maclaurin features require.
"""

from __future__ import annotations

import math

import torch

KERNELS: tuple[str, ...] = ("exp", "inverse", "log", "trigh", "sqrt")

# |t| < radius is where the Maclaurin series of f converges.
RADIUS_OF_CONVERGENCE: dict[str, float] = {
    "exp": math.inf,
    "inverse": 1.0,
    "log": 1.0,
    "trigh": math.inf,
    "sqrt": 1.0,
}


def check_kernel(kernel: str) -> str:
    """Return `kernel` if it is known, else raise a ValueError listing the known ones."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; allowed kernels: {', '.join(KERNELS)}")
    return kernel


def radius_of_convergence(kernel: str) -> float:
    return RADIUS_OF_CONVERGENCE[check_kernel(kernel)]


def maclaurin_coefficients(kernel: str, max_degree: int) -> torch.Tensor:
    """a_0 .. a_max_degree of `kernel` as a float64 tensor of length max_degree + 1."""
    check_kernel(kernel)
    if max_degree < 0:
        raise ValueError(f"max_degree must be >= 0, got {max_degree}")
    n = torch.arange(max_degree + 1, dtype=torch.float64)
    if kernel in ("exp", "trigh"):  # cosh t + sinh t = eᵗ, so both are 1/n!
        return torch.exp(-torch.lgamma(n + 1))
    if kernel == "inverse":  # 1/(1-t) = Σ tⁿ
        return torch.ones_like(n)
    if kernel == "log":  # 1 - log(1-t) = 1 + Σ_{n≥1} tⁿ/n
        a = 1.0 / n.clamp(min=1)
        a[0] = 1.0
        return a
    # sqrt: 2 - √(1-t) = 1 + Σ_{n≥1} |binom(1/2, n)| tⁿ, and
    # |binom(1/2, n)| = (2n)! / ((2n - 1) 4ⁿ (n!)²) for n ≥ 1.
    m = n.clamp(min=1)
    log_a = torch.lgamma(2 * m + 1) - torch.log(2 * m - 1) - m * math.log(4) - 2 * torch.lgamma(m + 1)
    a = torch.exp(log_a)
    a[0] = 1.0
    return a


def kernel_value(kernel: str, t: torch.Tensor) -> torch.Tensor:
    """The exact f(t) (not the truncated series).

    inverse, log and sqrt are only defined for t < 1: larger t raises a ValueError
    naming the kernel and its radius instead of returning inf or NaN.
    """
    check_kernel(kernel)
    t = torch.as_tensor(t)
    if kernel in ("exp", "trigh"):
        return torch.exp(t) if kernel == "exp" else torch.cosh(t) + torch.sinh(t)
    if bool((t >= 1).any()):
        raise ValueError(
            f"kernel {kernel!r} is undefined for t >= 1 (radius of convergence 1); "
            f"got max t = {float(t.max()):.4g}. Scale the inputs (ppSBN) first."
        )
    if kernel == "inverse":
        return 1.0 / (1.0 - t)
    if kernel == "log":
        return 1.0 - torch.log1p(-t)
    return 2.0 - torch.sqrt(1.0 - t)


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
