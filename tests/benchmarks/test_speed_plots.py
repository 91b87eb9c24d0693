"""The speed and peakedness figures: one look per variant shared with the report, a line
style that names the attention's family in every panel, one line for rmfa's kernels."""

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from benchmarks import attention_peakedness, speed_plots
from macformer.attention import KERNELS
from macformer.report.load import VARIANT_KEY
from macformer.report.style import variant_style

VARIANTS = [("softmax", ""), ("softmax_materialized", ""), ("kernelized", "exp"),
            ("kernelized", "inverse"), ("rfa", ""), ("performer", ""),
            *[("rmfa", k) for k in KERNELS]]
RANDOM_FEATURES = {"rfa", "rmfa", "performer"}


def fake_speed_rows() -> pd.DataFrame:
    rows = []
    for attention, kernel in VARIANTS:
        for mode in ("forward", "forward_backward"):
            for n in (512, 1024, 2048):
                # SDPA's memory grows linearly, as the random-feature ones do.
                quadratic = attention in ("softmax_materialized", "kernelized")
                rows.append(dict(attention=attention, kernel=kernel,
                                 variant=f"{attention}-{kernel}" if kernel else attention,
                                 seq_len=n, batch=2, heads=2, head_dim=32, mode=mode,
                                 ms=(n / 512) ** (2 if attention == "softmax" or quadratic else 1)
                                 * (1 + 0.01 * len(kernel)),
                                 peak_mb=(n / 512) ** (2 if quadratic else 1), device="cpu"))
    return pd.DataFrame(rows)


@pytest.fixture(params=[("ms", "time per call (ms)"), ("peak_mb", "peak memory (MiB)")])
def speed_axes(request):
    fig = speed_plots.figure(fake_speed_rows(), *request.param)
    yield fig.axes
    plt.close(fig)


def _report_variant(attention, kernel):
    """A report row of this plain variant (variants.Variant)."""
    known = {"profile": "cpu", "attention": attention, "kernel": kernel or None, "protocol": "lra"}
    return tuple(known.get(key) for key in VARIANT_KEY)


def test_the_kernels_of_rmfa_are_one_line_and_kernelized_ones_stay_apart(speed_axes):
    for ax in speed_axes:
        labels = [line.get_label() for line in ax.get_lines()]
        rmfa = [lab for lab in labels if lab.startswith("rmfa")]
        assert len(rmfa) == 1 and all(k in rmfa[0] for k in KERNELS) and "same cost" in rmfa[0]
        assert {"kernelized-exp", "kernelized-inverse"} <= set(labels)  # exact: costs differ
        assert len(labels) == len(VARIANTS) - len(KERNELS) + 1


def test_line_style_names_the_family_in_time_and_memory_alike(speed_axes):
    # solid: exact; dashed: random features; rmfa's kernel rows are the module's
    # default, non-causal form, so their merged line is dotted, in both panels.
    for ax in speed_axes:
        for line in ax.get_lines():
            attention = line.get_label().split(",")[0].split("-")[0]
            expected = ":" if attention == "rmfa" else "--" if attention in RANDOM_FEATURES else "-"
            assert line.get_linestyle() == expected, line.get_label()
    assert "dashed: random-feature attention" in speed_axes[0].figure.get_suptitle()


def test_forms_of_rmfa_exp_are_lines_of_their_own_in_rmfa_exp_s_colour():
    rows = fake_speed_rows()
    forms = rows[rows.variant == "rmfa-exp"].copy()
    extra = [forms.assign(variant=f"rmfa-exp-{form}", form=form) for form in ("causal", "reference")]
    fig = speed_plots.figure(pd.concat([rows.assign(form=""), *extra]), "ms", "time (ms)")
    try:
        drawn = {line.get_label(): line for line in fig.axes[0].get_lines()}
        merged = next(line for label, line in drawn.items() if label.startswith("rmfa,"))
        causal, reference = drawn["rmfa-exp-causal"], drawn["rmfa-exp-reference"]
        assert causal.get_color() == reference.get_color() == variant_style(_report_variant("rmfa", "exp")).color
        assert causal.get_linestyle() == "--" and merged.get_linestyle() == ":"
        assert reference.get_marker() != causal.get_marker()
        assert "same cost" in merged.get_label()  # the forms are not merged into the kernels' line
    finally:
        plt.close(fig)


def test_a_variant_has_the_report_s_colour_and_marker_in_the_speed_plot(speed_axes):
    drawn = {line.get_label(): line for line in speed_axes[0].get_lines()}
    for attention, kernel in (("softmax", ""), ("rfa", ""), ("kernelized", "exp"),
                              ("performer", "")):
        style = variant_style(_report_variant(attention, kernel))
        line = drawn[f"{attention}-{kernel}" if kernel else attention]
        assert line.get_color() == style.color and line.get_marker() == style.marker
    merged = next(line for label, line in drawn.items() if label.startswith("rmfa"))
    assert merged.get_color() == variant_style(_report_variant("rmfa", "exp")).color
    assert variant_style(_report_variant("rmfa", "exp")).color != variant_style(
        _report_variant("kernelized", "exp")).color


def test_peakedness_bars_have_the_report_s_colours(tmp_path, monkeypatch):
    df = pd.DataFrame([dict(variant="softmax", attention="softmax", kernel=None, form="noncausal",
                            ratio_bound=math.inf, max_min_ratio=100.0, output_spread=0.5),
                       dict(variant="rmfa-exp-causal", attention="rmfa", kernel="exp",
                            form="causal", ratio_bound=1.3, max_min_ratio=1.2, output_spread=0.1)])
    saved = {}
    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: saved.setdefault("fig", fig))
    attention_peakedness.plot(df, tmp_path / "p.png")
    bars = saved["fig"].axes[0].patches
    assert bars[0].get_facecolor()[:3] == pytest.approx(
        plt.matplotlib.colors.to_rgb(variant_style(_report_variant("softmax", "")).color))
    rmfa = variant_style(("cpu", "rmfa", "exp", True, 128, True, "lra", None, None))
    assert bars[1].get_facecolor()[:3] == pytest.approx(plt.matplotlib.colors.to_rgb(rmfa.color))
