"""The two figures of benchmarks/attention_speed.py: time and peak memory against N."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from macformer.attention import attention_options


def _exact(attention: str) -> bool:
    """An exact attention (no random features): O(N²) in time in this benchmark."""
    return "num_features" not in attention_options(attention)


def plot(df: pd.DataFrame, column: str, ylabel: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    head_dims = sorted(df.head_dim.unique())
    modes = list(dict.fromkeys(df["mode"]))  # in the order measured
    fig, axes = plt.subplots(len(head_dims), len(modes), figsize=(12, 4.5 * len(head_dims)),
                             squeeze=False)
    labels = list(dict.fromkeys(df.variant))
    colours = {lab: plt.get_cmap("tab10")(i % 10) for i, lab in enumerate(labels)}
    for i, hd in enumerate(head_dims):
        for j, mode in enumerate(modes):
            ax = axes[i][j]
            sub = df[(df.head_dim == hd) & (df["mode"] == mode)]
            for lab in labels:
                s = sub[sub.variant == lab].sort_values("seq_len")
                if s.empty:
                    continue
                style = "--" if _exact(s.attention.iloc[0]) else "-"
                ax.plot(s.seq_len, s[column].clip(lower=1e-3), style, marker="o", ms=3,
                        color=colours[lab], label=lab)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length N")
            ax.set_ylabel(ylabel)
            b, h = int(df.batch.iloc[0]), int(df.heads.iloc[0])
            ax.set_title(f"{mode.replace('_', '+')}, batch {b}, {h} heads, head dim {hd}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"{ylabel} against N (dashed: O(N²) variants) — {df.device.iloc[0]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
