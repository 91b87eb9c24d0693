"""The report's figures read at a glance: chance level drawn on every accuracy plot, a
variant in the same colour and marker in the accuracy bars and the learning curves, the
line style naming the attention's family."""

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgb
from report_summaries import summary, write_metrics, write_summaries

from macformer.report.cells import accuracy_cells
from macformer.report.curves import curve_figure, read_curve
from macformer.report.load import load_runs
from macformer.report.plots import accuracy_figure
from macformer.report.style import look, variant_style
from macformer.report.variants import variant_label, variant_of, variants_of

RMFA = {"attention": "rmfa", "kernel": "exp", "ppsbn": True, "num_features": 128, "causal": True}
ROWS = {"softmax": {}, "rfa": {"attention": "rfa", "num_features": 128, "causal": True},
        "kernelized-exp": {"attention": "kernelized", "kernel": "exp", "ppsbn": True,
                           "causal": True},
        "rmfa-exp": RMFA, "rmfa-inverse": {**RMFA, "kernel": "inverse"}}


@pytest.fixture
def runs(tmp_path):
    root = write_summaries(tmp_path / "runs", {
        f"cpu/listops/{name}/seed0": summary(**fields, test_accuracy=0.2 + 0.02 * i)
        for i, (name, fields) in enumerate(ROWS.items())})
    for name in ROWS:
        write_metrics(root / f"cpu/listops/{name}/seed0", [(100, 0.15), (200, 0.25)])
    return root, load_runs(root)


def _curve_axes(root, loaded):
    variants = variants_of(loaded)
    curves = {(variant_of(r), r["column"]): [read_curve((root / r["path"]).parent)]
              for _, r in loaded.frame.iterrows()}
    column = loaded.frame["column"].iloc[0]
    return curve_figure(column, variants, curves, accuracy_cells(loaded), "cpu").axes[0]


def test_accuracy_bars_and_curves_draw_the_chance_level(runs):
    root, loaded = runs
    fig = accuracy_figure(loaded, "cpu")
    chance = [line for line in fig.axes[0].get_lines() if set(line.get_xdata()) == {17.0}]
    assert chance, "no vertical line at the recorded chance level (17%)"
    ax = _curve_axes(root, loaded)
    assert any(line.get_label().startswith("chance 17.0%") and set(line.get_ydata()) == {17.0}
               for line in ax.get_lines())
    plt.close("all")


def test_a_variant_has_one_colour_in_the_bars_and_the_curves(runs):
    root, loaded = runs
    variants = variants_of(loaded)
    bars = accuracy_figure(loaded, "cpu").axes[0].patches
    lines = {line.get_label().rsplit(" (n=", 1)[0]: line for line in
             _curve_axes(root, loaded).get_lines()}
    assert len(bars) == len(variants) == len(ROWS)
    for bar, variant in zip(bars, variants, strict=True):  # one bar per row, in table order
        line = lines[variant_label(variant, variants)]
        assert to_rgb(bar.get_facecolor()) == pytest.approx(to_rgb(line.get_color()))
        assert line.get_marker() == variant_style(variant).marker
        dashed = variant[1] in ("rfa", "rmfa", "performer")
        # A row whose curve coincides with an earlier one is drawn as a solid band under it.
        banded = " = " in line.get_label()
        assert line.get_linestyle() == ("--" if dashed and not banded else "-")
    colours = {to_rgb(bar.get_facecolor()) for bar in bars}
    assert len(colours) == len(bars)  # no two rows share a colour
    plt.close("all")


def test_ablations_keep_the_colour_and_change_the_line():
    plain = look("rmfa", "exp", causal=True)
    for ablated in (look("rmfa", "exp", causal=False), look("rmfa", "exp", ppsbn_ablated=True),
                    look("rmfa", "exp", other=True)):
        assert ablated.color == plain.color and ablated.marker == plain.marker
        assert ablated.linestyle not in ("-", "--") and ablated.hatch
    assert look("kernelized", "exp").linestyle == "-" and look("rmfa", "exp").linestyle == "--"
