"""benchmarks/approximation.py in quick mode: outputs, error against D, variance against theory."""

import itertools
import math

import pandas as pd
import pytest
import torch

from benchmarks.approximation import COLUMNS, series
from benchmarks.rmf_variance import second_moment_base, theoretical_variance
from macformer.attention.kernels import KERNELS, maclaurin_coefficients


@pytest.mark.slow
def test_csv_has_the_documented_columns(approximation_run):
    out, _, _ = approximation_run
    df = pd.read_csv(out / "approximation.csv")
    required = {"kernel", "ppsbn", "num_features", "seed", "input", "relative_error", "output_error"}
    assert required <= set(df.columns) and list(df.columns) == COLUMNS
    assert set(df.kernel) == set(KERNELS) and set(df.input) == {"gaussian", "model"}
    assert set(df.ppsbn) == {True, False}
    assert df.seq_len.min() >= 1024


@pytest.mark.slow
def test_plots_and_summary_are_written(approximation_run):
    out, _, _ = approximation_run
    for name in ("approximation_kernel_error.png", "approximation_output_error.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    text = (out / "approximation.md").read_text()
    assert "Error at D =" in text and "Variance of φ(x)·φ(y) against theory" in text
    assert (out / "variance_check.csv").exists()


@pytest.mark.slow
def test_error_falls_as_features_grow_with_ppsbn(approximation_run):
    _, df, _ = approximation_run
    on = df[df.ppsbn]
    assert (on.status == "ok").all()
    for (kind, kernel), s in on.groupby(["input", "kernel"]):
        for column in ("relative_error", "output_error"):
            med = s.groupby("num_features")[column].median()
            assert med.is_monotonic_decreasing, (kind, kernel, column, med.to_dict())
            # D grows 64-fold in the quick grid: error ∝ D^-1/2 would fall 8-fold.
            assert med.iloc[-1] < med.iloc[0] / 4, (kind, kernel, column)


@pytest.mark.slow
def test_kernel_error_matches_its_theoretical_value(approximation_run):
    # The measured error is a norm over ~2M entries, so it concentrates at the
    # root-mean-square error that the variance formula predicts (plus truncation bias).
    _, df, _ = approximation_run
    on = df[df.ppsbn & (df.num_features >= 64)]
    ratio = on.groupby(["input", "kernel", "num_features"]).apply(
        lambda s: s.relative_error.median() / s.theory_error.iloc[0], include_groups=False)
    assert ratio.between(0.85, 1.15).all(), ratio.to_dict()


@pytest.mark.slow
def test_empirical_variance_matches_theory_within_its_standard_error(approximation_run):
    _, _, var_df = approximation_run
    assert set(var_df.kernel) == set(KERNELS)
    assert (var_df.std_error > 0).all()
    # z_crit: two-sided normal quantile at family-wise 1% (Bonferroni over the rows).
    assert (var_df.z.abs() <= var_df.z_crit).all(), var_df[["kernel", "pair", "z"]]
    # The same draws are unbiased for the truncated series (a weaker, mean-level check).
    se_mean = (var_df.empirical_var / var_df.draws).pow(0.5)
    assert ((var_df.empirical_mean - var_df.truncated_kernel).abs() <= 5 * se_mean).all()


@pytest.mark.slow
def test_without_ppsbn_finite_radius_kernels_are_shown_not_hidden(approximation_run):
    _, df, _ = approximation_run
    off = df[~df.ppsbn]
    for kernel in ("inverse", "log", "sqrt"):
        rows = off[(off.kernel == kernel) & (off.input == "gaussian")]
        assert rows.status.str.startswith("guard:").all()
        assert rows.status.str.contains(f"'{kernel}'").all()
        assert (rows.outside_radius_frac > 0).all() and rows.relative_error.isna().all()
        assert rows.series_error.notna().all()
    exp_rows = off[off.kernel == "exp"]
    assert exp_rows.output_error.notna().all()  # infinite radius: no guard, just a worse error


def test_second_moment_base_is_the_rademacher_expectation():
    # m(x, y) = E[(w·x)²(w·y)²], checked by enumerating all 2^d sign vectors.
    g = torch.Generator().manual_seed(0)
    d = 6
    x, y = torch.randn(2, d, generator=g, dtype=torch.float64)
    signs = torch.tensor(list(itertools.product((-1.0, 1.0), repeat=d)), dtype=torch.float64)
    exact = ((signs @ x) ** 2 * (signs @ y) ** 2).mean()
    torch.testing.assert_close(second_moment_base(x[None], y[None])[0, 0], exact)


@pytest.mark.parametrize("kernel", KERNELS)
def test_theoretical_variance_of_a_degree_limited_map_by_enumeration(kernel):
    # max_degree 1: Z(x)Z(y) = (a_1/P(1)) (w·x)(w·y), P(1) = 1, enumerable exactly.
    g = torch.Generator().manual_seed(1)
    d = 5
    x, y = 0.5 * torch.randn(2, d, generator=g, dtype=torch.float64)
    signs = torch.tensor(list(itertools.product((-1.0, 1.0), repeat=d)), dtype=torch.float64)
    a1 = float(maclaurin_coefficients(kernel, 1)[1])
    zz = a1 * (signs @ x) * (signs @ y)
    num_features = 9
    expected = zz.var(unbiased=False) / (num_features - 1)
    got = theoretical_variance(kernel, x[None], y[None], num_features, max_degree=1)[0, 0]
    torch.testing.assert_close(got, expected)


def test_series_is_horner():
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    t = torch.tensor([0.5, -2.0], dtype=torch.float64)
    torch.testing.assert_close(series(a, t), 1 + 2 * t + 3 * t**2)
    assert math.isclose(float(series(a, torch.tensor(0.0, dtype=torch.float64))), 1.0)
