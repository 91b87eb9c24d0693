"""The Markdown report of benchmarks/attention_speed.py: speed-up and memory tables
relative to softmax, absolute times and peaks, the targets, the skipped cells."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from benchmarks.speed_targets import REFERENCE, TARGET_COLUMNS

MODES = ("forward", "forward_backward")



def speedup_table(df: pd.DataFrame, head_dim: int, mode: str, column: str = "ms") -> pd.DataFrame:
    """Rows: variant; columns: seq_len; value: reference / variant (> 1: variant is better)."""
    sub = df[(df.head_dim == head_dim) & (df["mode"] == mode)]
    wide = sub.pivot_table(index="variant", columns="seq_len", values=column, sort=False)
    if REFERENCE not in wide.index:
        return wide.iloc[0:0]
    return wide.loc[REFERENCE] / wide


def _fmt_table(table: pd.DataFrame, fmt: str) -> str:
    shown = table.apply(lambda col: col.map(lambda x: "—" if pd.isna(x) else format(x, fmt)))
    shown.columns = [str(c) for c in shown.columns]
    return shown.to_markdown()


def write_report(df, skipped, found, out: Path, args) -> str:
    lines = [f"# Attention speed and memory ({df.device.iloc[0]})", "",
             f"{args.dtype} inputs, batch {args.batch}, {args.heads} heads, {args.num_features} random features, "
             f"key padding mask (lengths uniform in [N/2, N]); median of {args.repeats} interleaved "
             f"repeats after a warm-up; torch {torch.__version__}. Speed-up = time of softmax "
             "(SDPA) / time of the variant (> 1: faster than softmax). Memory ratio = softmax's "
             "peak / the variant's peak.", ""]
    for hd in sorted(df.head_dim.unique()):
        for mode in MODES:
            lines += [f"## Speed-up over softmax, head dim {hd}, {mode.replace('_', '+')}", "",
                      _fmt_table(speedup_table(df, hd, mode), ".2f"), ""]
        sub = df[(df.head_dim == hd) & (df["mode"] == "forward_backward")]
        lines += [f"## Peak-memory ratio softmax / variant, head dim {hd}, forward+backward", "",
                  _fmt_table(speedup_table(df, hd, "forward_backward", "peak_mb"), ".2f"), ""]
        lines += [f"## Time (ms) and peak memory (MiB), head dim {hd}, forward+backward", "",
                  _fmt_table(sub.pivot_table(index="variant", columns="seq_len", values="ms",
                                             sort=False), ".1f"), "",
                  _fmt_table(sub.pivot_table(index="variant", columns="seq_len", values="peak_mb",
                                             sort=False), ".1f"), ""]
    lines += ["## Speed targets (forward+backward, head dim 32, same run)", "",
              pd.DataFrame([t.row() for t in found], columns=TARGET_COLUMNS).to_markdown(index=False),
              "", "## Skipped", ""]
    lines += [f"- {s}" for s in skipped] or ["- nothing"]
    text = "\n".join(lines) + "\n"
    (out / "attention_speed.md").write_text(text)
    return text
