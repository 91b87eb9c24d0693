"""Learning curves: validation accuracy against step, per task (and data set), one
line per variant (mean over the seeds that logged that step), read from each run's
Lightning CSV log (`<run dir>/csv/metrics.csv`, conf/logger/csv.yaml). A run whose log
is missing, unreadable or has no validation rows is named, not drawn.

The chance line is the validation set's majority share (`val/chance_accuracy`, logged
by the Lightning module); logs written before it existed fall back to the test set's,
and the legend says which. Variants whose curves coincide exactly are all drawn (the
later ones as a wide faint band under the first) and the legend names the coincidence."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from .cells import CellStats, accuracy_cells
from .load import MISSING, Runs, column_task, column_title, table_columns
from .plots import CHANCE_COLOR, png
from .style import LINESTYLE_NOTE, STYLE, variant_style
from .variants import variant_label, variant_of, variants_of

METRICS = Path("csv") / "metrics.csv"
PRETRAIN_DIR = "pretrain"  # a self-pretrained run's stage folder: its own curve (spt_curves.py)
PRETRAIN_METRICS = Path(PRETRAIN_DIR) / METRICS
VAL_ACCURACY = "val/accuracy"
VAL_CHANCE = "val/chance_accuracy"  # the validation set's majority share


def read_curve(run_dir: Path, metric: str = VAL_ACCURACY) -> list[tuple[int, float]]:
    """(step, validation accuracy in %) from the run's metrics.csv, sorted by step; the
    last value logged at a step wins (a resumed run logs it again). Empty when there is
    no file, no `step` / `val/accuracy` column, or no row with both (a cut last line of
    a run still writing is skipped). `metric`: another fraction column, e.g. VAL_CHANCE."""
    path = metrics_file(run_dir)
    if path is None:
        return []
    points = read_metrics(path, (metric,))[metric]
    return sorted((step, 100.0 * value) for step, value in points.items() if 0.0 <= value <= 1.0)


def read_metrics(path: Path, metrics: tuple[str, ...]) -> dict[str, dict[int, float]]:
    """{metric: {step: finite value}} from a metrics.csv, the last value logged at a step
    winning; every metric empty when the file cannot be read."""
    points: dict[str, dict[int, float]] = {metric: {} for metric in metrics}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                step = _number(row.get("step"))
                for metric in metrics:
                    value = _number(row.get(metric))
                    if step is not None and value is not None:
                        points[metric][int(step)] = value
    except (OSError, UnicodeDecodeError, csv.Error):
        return {metric: {} for metric in metrics}
    return points


def metrics_file(run_dir: Path) -> Path | None:
    """The run's metrics.csv the curve is read from: `csv/metrics.csv`, else the first
    metrics.csv anywhere in the run folder but its self-pretraining's (`pretrain/`); None
    when there is none."""
    path = run_dir / METRICS
    if path.is_file():
        return path
    found = sorted(p for p in run_dir.rglob("metrics.csv")
                   if p.is_file() and p.relative_to(run_dir).parts[0] != PRETRAIN_DIR)
    return found[0] if found else None


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def curve_name(column: str, columns: list[str]) -> str:
    """`curves_<task>.png`; `curves_<task>-<data set>.png` when the profile ran the task
    on more than one data set."""
    task = column_task(column)
    alone = sum(column_task(c) == task for c in columns) == 1
    slug = task if alone else column.replace("@", "-")
    return "curves_" + "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in slug) + ".png"


def curve_plots(runs: Runs, runs_dir: Path, profile: str) -> tuple[dict[str, bytes], list[str]]:
    """{file name: PNG} per column with at least one run that trained, and the summary
    paths of the runs that trained but have no curve."""
    figures, no_curve = curve_figures(runs, runs_dir, profile)
    with plt.rc_context(STYLE):  # savefig reads the dpi from the style
        return {name: png(fig) for name, fig in figures.items()}, no_curve


def curve_figures(runs: Runs, runs_dir: Path, profile: str) -> tuple[dict, list[str]]:
    """{file name: matplotlib figure}, as curve_plots, before they become PNGs."""
    cells = accuracy_cells(runs)
    variants = variants_of(runs)
    trained = runs.frame[runs.frame["status"] != MISSING]
    curves: dict[tuple, list[list[tuple[int, float]]]] = {}
    val_chance: dict[str, list[float]] = {}
    no_curve = []
    for _, r in trained.iterrows():
        run_dir = (runs_dir / r["path"]).parent
        points = read_curve(run_dir)
        if points:
            curves.setdefault((variant_of(r), r["column"]), []).append(points)
            chance = read_curve(run_dir, VAL_CHANCE)
            if chance:
                val_chance.setdefault(r["column"], []).append(chance[-1][1])
        else:
            no_curve.append(r["path"])
    columns = [c for c in table_columns(trained["column"]) if c in set(trained["column"])]
    figures = {curve_name(column, columns): curve_figure(
        column, variants, curves, cells, profile, val_chance.get(column)) for column in columns}
    return figures, sorted(no_curve)


def curve_figure(column: str, variants: list, curves: dict, cells: dict, profile: str,
                 val_chance: list[float] | None = None):
    """One task's figure: a line per variant with a curve (mean over its seeds), the
    chance level (`val_chance`: the runs' validation majority in %, else the test set's),
    the legend beside the axes."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.8))
        drawn: dict[tuple, str] = {}  # a curve's points -> the label it was first drawn with
        for variant in variants:
            seeds = curves.get((variant, column))
            if not seeds:
                continue
            steps = sorted({s for points in seeds for s, _ in points})
            by_seed = [dict(points) for points in seeds]
            means = [sum(d[s] for d in by_seed if s in d) / sum(s in d for d in by_seed)
                     for s in steps]
            label = f"{variant_label(variant, variants)} (n={len(seeds)})"
            key = (tuple(steps), tuple(round(m, 9) for m in means))
            style = dict(markersize=4, linewidth=1.4)
            if key in drawn:  # hidden under an identical line otherwise: a wide band beneath it
                label += f" = {drawn[key]}"
                style = dict(markersize=7, linewidth=6, alpha=0.45, zorder=1, linestyle="-")
            else:
                drawn[key] = label.rsplit(" (n=", 1)[0]
            ax.plot(steps, means, **{**variant_style(variant).line(), **style}, label=label)
        if val_chance:
            p, source = sum(val_chance) / len(val_chance) / 100, "validation majority"
        else:
            chance = next((cells[(v, column)].chance(column) for v in variants
                           if (v, column) in cells), None) or CellStats().chance(column)
            p, source = chance.p, ("test set's majority" if chance.recorded else "1/classes, assumed")
        if p is not None:
            ax.axhline(100 * p, color=CHANCE_COLOR, linestyle="--", linewidth=1,
                       label=f"chance {100 * p:.1f}% ({source})")
        if not any((v, column) in curves for v in variants):
            ax.text(0.5, 0.5, "no run of this task logged validation accuracy",
                    transform=ax.transAxes, ha="center", color="0.4")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("validation accuracy (%)")
        drawn = [y for line in ax.get_lines() for y in line.get_ydata()]
        if drawn:  # zoom on the data and the chance level, within 0-100
            ax.set_ylim(max(0.0, min(drawn) - 5.0), min(100.0, max(drawn) + 5.0))
        else:
            ax.set_ylim(0, 100)
        ax.grid(color="0.9", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(f"{column_title(column)}: validation accuracy, profile {profile} "
                     "(mean over seeds)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7,
                  title=LINESTYLE_NOTE.replace("; ", "\n"), title_fontsize=7, alignment="left")
    return fig
