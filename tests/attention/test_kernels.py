"""Maclaurin coefficients and exact kernel values against independent closed forms."""

import math
from fractions import Fraction

import pytest
import torch

from macformer.attention.kernels import (
    KERNELS,
    kernel_value,
    maclaurin_coefficients,
    radius_of_convergence,
    truncated_kernel_value,
)


def binom_half(n: int) -> Fraction:
    """binom(1/2, n) = Π_{k<n} (1/2 − k) / n!, in exact arithmetic."""
    value = Fraction(1)
    for k in range(n):
        value *= Fraction(1, 2) - k
    return value / math.factorial(n)


EXPECTED = {
    "exp": lambda n: 1 / math.factorial(n),
    "trigh": lambda n: 1 / math.factorial(n),
    "inverse": lambda n: 1.0,
    "log": lambda n: 1.0 if n == 0 else 1 / n,
    "sqrt": lambda n: 1.0 if n == 0 else float(abs(binom_half(n))),
}
FUNCTIONS = {
    "exp": math.exp,
    "trigh": lambda t: math.cosh(t) + math.sinh(t),
    "inverse": lambda t: 1 / (1 - t),
    "log": lambda t: 1 - math.log(1 - t),
    "sqrt": lambda t: 2 - math.sqrt(1 - t),
}


def test_kernel_names():
    assert KERNELS == ("exp", "inverse", "log", "trigh", "sqrt")


@pytest.mark.parametrize("kernel", KERNELS)
def test_coefficients_match_closed_forms(kernel):
    a = maclaurin_coefficients(kernel, 30)
    assert a.dtype == torch.float64 and a.shape == (31,)
    expected = torch.tensor([EXPECTED[kernel](n) for n in range(31)], dtype=torch.float64)
    torch.testing.assert_close(a, expected, rtol=1e-12, atol=0)
    assert bool((a >= 0).all())


def test_sqrt_first_coefficients():
    a = maclaurin_coefficients("sqrt", 4)
    torch.testing.assert_close(a, torch.tensor([1, 1 / 2, 1 / 8, 1 / 16, 5 / 128], dtype=torch.float64))


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_value_matches_math(kernel):
    t = torch.linspace(-0.9, 0.9, 19, dtype=torch.float64)
    expected = torch.tensor([FUNCTIONS[kernel](float(x)) for x in t], dtype=torch.float64)
    torch.testing.assert_close(kernel_value(kernel, t), expected)


@pytest.mark.parametrize("kernel", KERNELS)
def test_series_converges_to_kernel_inside_radius(kernel):
    t = torch.tensor([-0.5, -0.1, 0.0, 0.2, 0.5], dtype=torch.float64)
    torch.testing.assert_close(truncated_kernel_value(kernel, t, 200), kernel_value(kernel, t), rtol=1e-10,
                               atol=1e-12)


def test_radius_of_convergence():
    assert radius_of_convergence("exp") == math.inf and radius_of_convergence("trigh") == math.inf
    for k in ("inverse", "log", "sqrt"):
        assert radius_of_convergence(k) == 1.0


@pytest.mark.parametrize("kernel", ["inverse", "log", "sqrt"])
def test_kernel_value_outside_domain_is_an_error_not_nan(kernel):
    with pytest.raises(ValueError, match=rf"{kernel}.*radius of convergence 1"):
        kernel_value(kernel, torch.tensor([0.5, 1.2]))


def test_unknown_kernel_is_refused():
    with pytest.raises(ValueError, match=r"unknown kernel 'cosine'.*exp, inverse, log, trigh, sqrt"):
        maclaurin_coefficients("cosine", 5)
