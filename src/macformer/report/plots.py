"""Plots as PNG bytes: accuracy per task and variant (chance level drawn), speed and
memory against softmax. Variants are the rows of horizontal bars, named on the axis
(no legend over the data), each in its fixed colour (style.py).

The Agg backend, a fixed style and no `Software` metadata make the bytes a function
of the data alone, so a second report writes identical files.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, deterministic raster output
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

from .cells import CellStats, accuracy_cells  # noqa: E402
from .efficiency_table import efficiency_frame  # noqa: E402
from .load import LRA_TASKS, Runs, column_title, table_columns  # noqa: E402
from .provenance import environment_labels  # noqa: E402
from .style import STYLE, VALUE_FONTSIZE, variant_style  # noqa: E402
from .variants import variant_label, variant_of, variants_of  # noqa: E402

NICE_RATIOS = tuple(m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5))
CHANCE_COLOR = "#c0392b"


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def accuracy_plot(runs: Runs, profile: str) -> bytes:
    with plt.rc_context(STYLE):  # savefig reads the dpi from the style
        return png(accuracy_figure(runs, profile))


def accuracy_figure(runs: Runs, profile: str):
    """One panel per task (and data set), one horizontal bar per variant: mean test
    accuracy of completed seeds ± std, the value written at the bar's end; a stopped
    result is drawn pale and marked; a cell without a result says why. The dashed line
    is the task's chance level (the most frequent label's share of the test set)."""
    cells = accuracy_cells(runs)
    variants = variants_of(runs)
    every = table_columns(runs.frame["column"]) if not runs.frame.empty else list(LRA_TASKS)
    # Panels for the tasks with a result; the others are named below the title.
    columns = [c for c in every if any(cells.get((v, c), CellStats()).n
                                       or cells.get((v, c), CellStats()).stopped_accuracies
                                       for v in variants)] or every[:1]
    empty = [c for c in every if c not in columns]
    labels = [variant_label(v, variants) for v in variants]
    per_row = min(3, len(columns))
    n_rows = -(-len(columns) // per_row)
    with plt.rc_context(STYLE):
        height = n_rows * (0.9 + 0.34 * max(1, len(variants)))
        fig, axes = plt.subplots(n_rows, per_row, figsize=(max(9.0, 2.0 + 3.3 * per_row), height),
                                 squeeze=False, layout="constrained")
        for k, column in enumerate(columns):
            ax = axes[k // per_row][k % per_row]
            chance = next((cells[(v, column)].chance(column) for v in variants
                           if (v, column) in cells), None) or CellStats().chance(column)
            for i, variant in enumerate(variants):
                stats = cells.get((variant, column), CellStats())
                _accuracy_bar(ax, i, stats, variant_style(variant), chance)
            if chance.p is not None:
                ax.axvline(100 * chance.p, color=CHANCE_COLOR, linestyle="--", linewidth=1)
                ax.text(100 * chance.p, -0.65, f" chance {100 * chance.p:.1f}%"
                        + ("" if chance.recorded else " (1/classes)"),
                        color=CHANCE_COLOR, fontsize=VALUE_FONTSIZE, va="center", ha="left")
            ax.set_xlim(0, 118)
            ax.set_xticks([0, 25, 50, 75, 100])
            ax.set_title(column_title(column), fontsize=9)
            ax.set_xlabel("test accuracy (%)")
            ax.set_yticks(range(len(variants)), labels if k % per_row == 0 else [])
            ax.set_ylim(len(variants) - 0.5, -1.0)  # first row on top; room for the chance text
            ax.grid(axis="x", color="0.9", linewidth=0.6)
            ax.set_axisbelow(True)
        for k in range(len(columns), n_rows * per_row):
            axes[k // per_row][k % per_row].set_axis_off()
        title = (f"Test accuracy by attention, profile {profile} (mean ± std over completed "
                 "seeds; pale = stopped early; dashed = chance level)")
        if empty:
            title += "\nno result (see accuracy.md): " + ", ".join(
                f"{column_title(c)} ({_why_empty(cells, variants, c)})" for c in empty)
        fig.suptitle(title)
        return fig


def _why_empty(cells, variants, column: str) -> str:
    statuses = sorted({cells.get((v, column), CellStats()).status for v in variants})
    return "/".join(statuses) or "not run"


def _accuracy_bar(ax, i: int, stats: CellStats, style, chance) -> None:
    if stats.n:
        value, notes, alpha = stats.mean, [], 1.0
    elif stats.stopped_accuracies:
        accs = stats.stopped_accuracies
        value, notes, alpha = sum(accs) / len(accs), ["stopped"], 0.45
    else:
        ax.text(1, i, stats.status, va="center", ha="left", fontsize=VALUE_FONTSIZE, color="0.4")
        return
    ax.barh(i, value, 0.7, color=style.color, hatch=style.hatch, edgecolor="white", alpha=alpha,
            xerr=stats.std if stats.n else None, ecolor="0.25", capsize=2)
    if chance.at_chance(value):
        notes.append("≈chance")
    if stats.n and stats.stopped:
        notes.append(f"+{len(stats.stopped)} stopped")
    if stats.failed and (stats.n or stats.stopped):
        notes.append(f"+{len(stats.failed)} failed")
    ax.text(value + (stats.std or 0) + 1.5, i, " ".join([f"{value:.1f}", *notes]),
            va="center", ha="left", fontsize=VALUE_FONTSIZE)


def _row_names(part, envs: dict[str, str]) -> list[str]:
    """The variants, with `[E2 on <device>]` when the rows come from several devices or
    environments (efficiency.md's note says which is which)."""
    if len(set(zip(part["device"], part["environment"], strict=True))) < 2:
        return list(part["label"])
    return [f"{label} [{envs[env]} on {device}]"
            for label, env, device in zip(part["label"], part["environment"], part["device"], strict=True)]


def efficiency_plot(runs: Runs, profile: str) -> bytes:
    """Per task: training speed and peak memory against softmax on the same device
    (ratio on a log axis, bars drawn from 1), the absolute value beside each ratio."""
    frame = efficiency_frame(runs)
    frame = frame[frame["speedup_vs_softmax"].notna() | frame["memory_vs_softmax"].notna()]
    envs = environment_labels(runs.frame)
    columns = [c for c in table_columns(frame["column"]) if c in set(frame["column"])]
    with plt.rc_context(STYLE):
        n_rows = max(1, len(columns))
        per_row = [max(1, (frame["column"] == c).sum()) for c in columns] or [1]
        fig, axes = plt.subplots(n_rows, 2, squeeze=False, layout="constrained",
                                 figsize=(11.5, 0.9 + sum(0.32 * k + 0.7 for k in per_row)),
                                 height_ratios=per_row)
        panels = (("speedup_vs_softmax", "tokens_per_second", "{:,.0f} tokens/s",
                   "training speed ÷ softmax's (log scale; right = faster)"),
                  ("memory_vs_softmax", "peak_memory_mb", "{:,.0f} MiB",
                   "peak memory ÷ softmax's (log scale; left = less)"))
        for row, column in enumerate(columns):
            part = frame[frame["column"] == column].reset_index(drop=True)
            variants = [variant_of(r) for _, r in part.iterrows()]
            for ax, (key, absolute, unit, xlabel) in zip(axes[row], panels, strict=True):
                values = [v for v in part[key] if v == v and v is not None]
                for i, (_, r) in enumerate(part.iterrows()):
                    value, style = r[key], variant_style(variants[i])
                    if value is None or value != value:
                        ax.text(1.0, i, " no softmax baseline", va="center", fontsize=VALUE_FONTSIZE)
                        continue
                    ax.barh(i, value - 1.0, 0.7, left=1.0, color=style.color, hatch=style.hatch,
                            edgecolor="white")
                    text = f"{value:.2f}×  ({unit.format(r[absolute])})" if r[absolute] == r[
                        absolute] and r[absolute] is not None else f"{value:.2f}×"
                    ax.text(max(value, 1.0) * 1.04, i, text, va="center", ha="left",
                            fontsize=VALUE_FONTSIZE)
                ax.axvline(1.0, color="0.2", linewidth=0.8, linestyle="--")
                ax.set_xscale("log")
                low, high = min([*values, 1.0]), max([*values, 1.0])
                ax.set_xlim(low / 1.6, high * 4.0)  # room on the right for the labels
                ax.xaxis.set_major_locator(FixedLocator(
                    [t for t in NICE_RATIOS if low / 1.6 <= t <= high * 4.0]))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.set_yticks(range(len(part)), _row_names(part, envs))
                ax.set_ylim(len(part) - 0.5, -0.5)
                ax.set_title(f"{column_title(column)}: {xlabel.split(' (')[0]}", fontsize=9)
                ax.set_xlabel(xlabel)
                ax.grid(axis="x", color="0.9", linewidth=0.6)
                ax.set_axisbelow(True)
            axes[row][1].tick_params(labelleft=False)
        if not columns:
            for ax in axes[0]:
                ax.text(0.5, 0.5, "no completed run with a softmax baseline",
                        transform=ax.transAxes, ha="center")
                ax.set_axis_off()
        fig.suptitle(f"Speed and memory against softmax on the same device, profile {profile} "
                     "(dashed line = softmax)")
        return png(fig)

