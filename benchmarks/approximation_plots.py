"""The error figures of benchmarks/approximation.py: error against D, one line per kernel,
in the kernel's colour of every other plot (rmfa with that kernel)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from macformer.report.style import look


def plot_errors(df: pd.DataFrame, column: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inputs = list(dict.fromkeys(df.input))
    fig, axes = plt.subplots(len(inputs), 2, figsize=(12, 4.6 * len(inputs)), squeeze=False)
    colours = {k: look("rmfa", k).color for k in dict.fromkeys(df.kernel)}
    for i, kind in enumerate(inputs):
        for j, ppsbn in enumerate((True, False)):
            ax = axes[i][j]
            sub = df[(df.input == kind) & (df.ppsbn == ppsbn)]
            for kernel in dict.fromkeys(sub.kernel):
                s = sub[sub.kernel == kernel]
                g = s.groupby("num_features")[column]
                med = g.median().dropna()
                med = med[med.map(math.isfinite)]
                if med.empty:
                    why = s.status.iloc[0].split(":")[0] if s.status.iloc[0] != "ok" else "undefined"
                    ax.plot([], [], " ", label=f"{kernel}: no value ({why}; see summary)")
                    continue
                lo, hi = g.min().loc[med.index], g.max().loc[med.index]
                ax.plot(med.index, med.values, "-o", ms=3, color=colours[kernel], label=kernel)
                ax.fill_between(med.index, lo.values, hi.values, color=colours[kernel], alpha=0.15)
                if column == "relative_error":
                    theory = s.groupby("num_features").theory_error.first().loc[med.index]
                    ax.plot(theory.index, theory.values, "--", color=colours[kernel], lw=1)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("number of random features D (log scale)")
            ax.set_ylabel(f"{column.replace('_', ' ')} (log scale)")
            ax.set_title(f"{kind} Q, K, V — ppSBN {'on' if ppsbn else 'off'}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
    note = " (dashed: theory from the variance formula)" if column == "relative_error" else ""
    fig.suptitle(f"{title}: median over seeds, band = min–max{note}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
