"""Plots as PNG bytes: accuracy per task by attention; speed-up and memory against softmax.

The Agg backend, a fixed style and no `Software` metadata make the bytes a function
of the data alone, so a second report writes identical files.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, deterministic raster output
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

from .load import LRA_TASKS, TASK_TITLES, Runs  # noqa: E402
from .tables import (  # noqa: E402
    accuracy_cells,
    efficiency_frame,
    variant_label,
    variant_of,
    variants_by_profile,
)

STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10,
    "savefig.dpi": 110, "figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
    "hatch.linewidth": 0.6,
}

NICE_RATIOS = tuple(m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5))


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _colors(n: int):
    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def accuracy_plot(runs: Runs, profile: str) -> bytes:
    """Grouped bars: one group per task, one bar per variant, error bars = std over seeds.
    A cell without a result is written on the axis (`missing`, `failed`, `not run`)."""
    cells = accuracy_cells(runs)
    variants = variants_by_profile(runs).get(profile, [])
    tasks = [t for t in (*LRA_TASKS, "pathx")
             if t in LRA_TASKS or any((v, t) in cells for v in variants)]
    with plt.rc_context(STYLE):
        width = max(6.5, 0.9 + len(tasks) * (0.25 + 0.14 * max(1, len(variants))))
        fig, ax = plt.subplots(figsize=(width, 3.8))
        bar = 0.8 / max(1, len(variants))
        for i, (variant, color) in enumerate(zip(variants, _colors(len(variants)), strict=True)):
            hatch = "//" if variant[3] is False else None
            for j, task in enumerate(tasks):
                x = j - 0.4 + bar * (i + 0.5)
                stats = cells.get((variant, task))
                if stats is not None and stats.n:
                    ax.bar(x, stats.mean, bar, color=color, hatch=hatch, edgecolor="white",
                           yerr=stats.std, ecolor="0.25", capsize=1.5,  # none for one seed
                           label=variant_label(variant, variants) if j == 0 else None)
                else:
                    status = stats.status if stats is not None else "not run"
                    ax.text(x, 1.0, status, rotation=90, ha="center", va="bottom", fontsize=6,
                            color="0.45")
                    if j == 0:  # keep the legend entry even when the first task has no bar
                        ax.bar(x, 0.0, bar, color=color, hatch=hatch,
                               label=variant_label(variant, variants))
        ax.set_xticks(range(len(tasks)), [TASK_TITLES.get(t, t) for t in tasks])
        ax.set_xlim(-0.5, len(tasks) - 0.5)
        ax.set_ylim(0, 100)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"LRA test accuracy by attention (profile {profile}; mean ± std over seeds)")
        ax.grid(axis="y", color="0.9", linewidth=0.6)
        ax.set_axisbelow(True)
        if variants:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)
        return _png(fig)


def efficiency_plot(runs: Runs, profile: str) -> bytes:
    """Two panels: training speed-up and peak-memory ratio against softmax (log scale,
    bars drawn from 1 so faster / leaner goes one way and slower / heavier the other),
    one group per task, one bar per non-softmax variant."""
    all_variants = variants_by_profile(runs).get(profile, [])
    colors = dict(zip(all_variants, _colors(len(all_variants)), strict=True))
    frame = efficiency_frame(runs)
    frame = frame[(frame["profile"] == profile) & (frame["attention"] != "softmax")]
    # One device per (variant, task) in a plot: the first in the table's order.
    by_cell: dict[tuple, dict] = {}
    for _, r in frame.iterrows():
        by_cell.setdefault((variant_of(r), r["task"]), r.to_dict())
    has_ratio = {k for k, r in by_cell.items() if _finite(r["speedup_vs_softmax"])}
    variants = [v for v in all_variants if any(k[0] == v for k in has_ratio)]
    tasks = [t for t in (*LRA_TASKS, "pathx") if any(k[1] == t for k in has_ratio)]
    with plt.rc_context(STYLE):
        width = max(9.0, 2 * (1.2 + len(tasks) * (0.25 + 0.12 * max(1, len(variants)))))
        fig, axes = plt.subplots(1, 2, figsize=(width, 3.8), layout="constrained")
        bar = 0.8 / max(1, len(variants))
        panels = (("speedup_vs_softmax", "training tokens/s ÷ softmax's (higher = faster)"),
                  ("memory_vs_softmax", "peak memory ÷ softmax's (lower = less)"))
        for ax, (column, ylabel) in zip(axes, panels, strict=True):
            values = []
            for i, variant in enumerate(variants):
                for j, task in enumerate(tasks):
                    value = by_cell.get((variant, task), {}).get(column)
                    if _finite(value):
                        values.append(value)
                        x = j - 0.4 + bar * (i + 0.5)
                        ax.bar(x, value - 1.0, bar, bottom=1.0, color=colors[variant],
                               edgecolor="white", hatch="//" if variant[3] is False else None)
                        ax.text(x, value, f"{value:.2f}", ha="center", fontsize=5.5,
                                va="bottom" if value >= 1.0 else "top", rotation=90)
            ax.axhline(1.0, color="0.2", linewidth=0.8, linestyle="--")
            ax.set_yscale("log")
            low, high = min([*values, 1.0]), max([*values, 1.0])
            ax.set_ylim(low / 1.5, high * 1.5)
            ax.yaxis.set_major_locator(FixedLocator(
                [t for t in NICE_RATIOS if low / 1.5 <= t <= high * 1.5]))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xticks(range(len(tasks)), [TASK_TITLES.get(t, t) for t in tasks])
            ax.set_xlim(-0.5, max(0.5, len(tasks) - 0.5))
            ax.set_ylabel(ylabel)
            ax.grid(axis="y", color="0.9", linewidth=0.6, which="major")
            ax.set_axisbelow(True)
        if not tasks:
            for ax in axes:
                ax.text(0.5, 0.5, "no completed run with a softmax baseline",
                        transform=ax.transAxes, ha="center")
        fig.suptitle(f"Speed and memory against softmax on the same device (profile {profile}; "
                     "dashed line = softmax)")
        handles = [Patch(facecolor=colors[v], edgecolor="white",
                         hatch="//" if v[3] is False else None, label=variant_label(v, all_variants))
                   for v in variants]
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncol=min(5, len(handles)),
                       frameon=False, fontsize=7)
        return _png(fig)


def _finite(value) -> bool:
    return value is not None and value == value and value not in (float("inf"), float("-inf"))
