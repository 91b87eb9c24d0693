"""The self-pretraining's own curves: per task, the pretraining's validation loss and token
accuracy against its step, one line per self-pretrained row (mean over the seeds that
logged that step), read from each run's `pretrain/csv/metrics.csv`. Beside spt.md, so that
whether the pretraining learned anything can be seen at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from .curves import PRETRAIN_METRICS, curve_name, read_metrics
from .load import Runs, column_title, table_columns
from .plots import png
from .style import STYLE, variant_style
from .variants import variant_label, variant_of, variants_of

LOSS, TOKEN_ACCURACY = "pretrain_val/loss", "pretrain_val/token_accuracy"


def read_pretrain_curve(run_dir: Path) -> dict[str, dict[int, float]]:
    """{metric: {step: value}} of the run's pretraining validations (empty when none)."""
    return read_metrics(run_dir / PRETRAIN_METRICS, (LOSS, TOKEN_ACCURACY))


def spt_curve_plots(runs: Runs, runs_dir: Path, profile: str) -> dict[str, bytes]:
    """{curves_pretrain_<task>.png: PNG} per column with a self-pretrained run that logged."""
    spt = runs.frame[runs.frame["pretrain"].notna() & (runs.frame["status"] == "completed")]
    variants = variants_of(runs)
    curves: dict[tuple, list[dict]] = {}
    for _, r in spt.iterrows():
        curve = read_pretrain_curve((runs_dir / r["path"]).parent)
        if curve[LOSS]:
            curves.setdefault((r["column"], variant_of(r)), []).append(curve)
    columns = [c for c in table_columns(spt["column"]) if any(k[0] == c for k in curves)]
    out = {}
    with plt.rc_context(STYLE):
        for column in columns:
            fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
            for (col, variant), members in sorted(curves.items(), key=lambda c: str(c[0])):
                if col != column:
                    continue
                style = variant_style(variant)
                for ax, metric in zip(axes, (LOSS, TOKEN_ACCURACY), strict=True):
                    steps = sorted({s for m in members for s in m[metric]})
                    means = [sum(m[metric][s] for m in members if s in m[metric])
                             / sum(s in m[metric] for m in members) for s in steps]
                    ax.plot(steps, means, color=style.color, linestyle=style.linestyle, marker=style.marker,
                            label=f"{variant_label(variant, variants)} (n={len(members)})")
            axes[0].set(title="pretraining validation loss", xlabel="pretraining step", ylabel="cross-entropy")
            axes[1].set(title="masked / next tokens predicted", xlabel="pretraining step", ylabel="token accuracy")
            axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
            fig.suptitle(f"Self-pretraining, {column_title(column)}, profile {profile}")
            name = curve_name(column, columns).replace("curves_", "curves_pretrain_", 1)
            out[name] = png(fig)
    return out
