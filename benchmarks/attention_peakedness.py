"""How peaked each attention is, beside the bound ppSBN puts on it: why a row learns or not.

For every variant (softmax, exact kernelized and RMFA in the causal and non-causal
forms for each kernel, RFA, Performer), on queries and keys like those of a trained
layer (Gaussian projections of LayerNorm'd tokens, whose q·k/√d spreads far beyond
ppSBN's d^-1/2), it measures with `macformer.attention.peakedness`:
- the median max/min weight ratio over a query's keys, and for the kernel attentions
  the bound f(d^-1/2)/f(-d^-1/2) that ppSBN imposes on their exact weights;
- the normalised entropy of the weights (1 = uniform, a bag of tokens);
- the output spread across positions relative to v's (≈0: every position receives the
  same vector; the causal form's running mean keeps it well above).

    .venv/bin/python benchmarks/attention_peakedness.py --out results/peakedness
    .venv/bin/python benchmarks/attention_peakedness.py --quick   # seconds
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from macformer.attention import KERNELS, build_attention  # noqa: E402
from macformer.attention.linear_attention import allowed_keys  # noqa: E402
from macformer.attention.peakedness import output_spread, ppsbn_ratio_bound, weight_stats  # noqa: E402
from macformer.report.style import STYLE, VALUE_FONTSIZE, look  # noqa: E402

HEAD_DIM = 32


def variants(kernels) -> list[tuple[str, str, dict]]:
    """(label, attention, options)."""
    out = [("softmax", "softmax", {}), ("rfa", "rfa", {"seed": 0}), ("performer", "performer", {"seed": 0})]
    for kernel in kernels:
        for causal in (True, False):
            form = "causal" if causal else "noncausal"
            out.append((f"kernelized-{kernel}-{form}", "kernelized", {"kernel": kernel, "causal": causal}))
            out.append((f"rmfa-{kernel}-{form}", "rmfa", {"kernel": kernel, "causal": causal, "seed": 0}))
    return out


def inputs(seq_len: int, batch: int, seed: int = 0):
    """q, k, v [B, 2, N, d]: random linear maps of LayerNorm'd random tokens (unit variance per
    channel, as a freshly initialised or lightly trained layer sees them)."""
    g = torch.Generator().manual_seed(seed)
    tokens = torch.nn.functional.layer_norm(torch.randn(batch, seq_len, 64, generator=g), (64,))
    maps = [torch.randn(64, 2 * HEAD_DIM, generator=g) / math.sqrt(64) * 2.0 for _ in range(3)]
    q, k, v = (tokens @ m for m in maps)  # [B, N, 2·d]
    return [t.view(batch, seq_len, 2, HEAD_DIM).transpose(1, 2) for t in (q, k, v)]  # [B, 2, N, d]


def ratio_bound(attention) -> float:
    """The largest ratio of two exact weights the variant's scaling allows (inf: none).
    ppSBN kernels: f(d^-1/2)/f(-d^-1/2). RFA: unit-norm q, k give exp(-‖q-k‖²/2σ²) in
    [e^{-2/σ²}, 1], so e^{2/σ²} (7.4 at σ = 1): RFA is nearly as flat as ppSBN."""
    if getattr(attention, "kernel", None) is not None and getattr(attention, "ppsbn", False):
        return ppsbn_ratio_bound(attention.kernel, HEAD_DIM)
    if getattr(attention, "sigma", None) is not None:
        return math.exp(2.0 / attention.sigma**2)
    return math.inf


def measure(seq_len: int, batch: int, kernels) -> pd.DataFrame:
    q, k, v = inputs(seq_len, batch)
    rows = []
    for label, name, options in variants(kernels):
        attention = build_attention(name, head_dim=HEAD_DIM, num_heads=2, **options).eval()
        with torch.no_grad():
            weights = attention.attention_weights(q, k)
            causal = bool(getattr(attention, "causal", False))
            stats = weight_stats(weights, allowed_keys(None, seq_len, causal, q.device), None)
            stats["output_spread"] = output_spread(weights @ v, v, None)
        kernel = options.get("kernel")
        rows.append({"variant": label, "attention": name, "kernel": kernel,
                     "form": ("causal" if options.get("causal") else "noncausal") if kernel else "noncausal",
                     "ratio_bound": ratio_bound(attention), **stats})
    return pd.DataFrame(rows)


def plot(df: pd.DataFrame, path: Path) -> None:
    """Two panels of bars, one bar per variant in the look it has in every plot
    (macformer.report.style): the colour names attention and kernel, dots hatch the
    non-causal form."""
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.3 * len(df) + 2.0), sharey=True,
                                          layout="constrained")
        ys = list(range(len(df)))
        looks = [look(a, k if isinstance(k, str) else None,
                      causal=(f == "causal") if isinstance(k, str) else None)
                 for a, k, f in zip(df["attention"], df["kernel"], df["form"], strict=True)]
        ratio = df["max_min_ratio"].replace(math.inf, float("nan"))
        # A label starts past the bar and past its bound's tick.
        ticks = df["ratio_bound"].where(df["ratio_bound"].map(math.isfinite), 0.0)
        for ax, values, at in ((left, ratio, ratio.combine(ticks, max) * 1.15),
                               (right, df["output_spread"], df["output_spread"])):
            ax.barh(ys, values, 0.75, color=[s.color for s in looks],
                    hatch=[s.hatch or "" for s in looks], edgecolor="white")
            for y, value, x in zip(ys, values, at, strict=True):
                if value == value:  # NaN: no finite ratio, no label
                    ax.text(x, y, f" {value:.3g}", va="center", fontsize=VALUE_FONTSIZE)
            ax.grid(axis="x", color="0.9", linewidth=0.6)
            ax.set_axisbelow(True)
        for y, bound in zip(ys, df["ratio_bound"], strict=True):
            if math.isfinite(bound):
                left.plot([bound, bound], [y - 0.45, y + 0.45], color="black", lw=2)
        left.set_xscale("log")
        left.set_xlim(right=ratio.max() * 200)  # room for the value labels
        right.set_xlim(0, df["output_spread"].max() * 1.12)  # room for the value labels
        left.set_xlabel("median max/min weight ratio over a query's keys (log scale)")
        left.set_title("how peaked the weights are (black tick: the bound its scaling allows)")
        left.set_yticks(ys, df["variant"])
        left.set_ylim(len(df) - 0.5, -0.5)  # first variant on top
        right.set_xlabel("output spread across positions ÷ v's spread")
        right.set_title("how much positions differ (≈0: every position gets the same vector)")
        fig.legend([Patch(facecolor="0.6", edgecolor="white"),
                    Patch(facecolor="0.6", edgecolor="white", hatch=look("rmfa", causal=False).hatch),
                    Line2D([], [], color="black", lw=2)],
                   ["causal form, or no causal option", "non-causal form",
                    "bound of the scaling (ppSBN, RFA's unit norm)"],
                   loc="outside lower center", ncol=3, frameon=False)
        fig.suptitle(f"Attention peakedness, head dim {HEAD_DIM}, "
                     f"{int(df.attrs.get('seq_len', 0))} tokens")
        fig.savefig(path, dpi=110)
        plt.close(fig)


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/peakedness"))
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--kernels", nargs="+", default=list(KERNELS))
    p.add_argument("--quick", action="store_true", help="128 tokens, exp and inverse only")
    args = p.parse_args(argv)
    if args.quick:
        args.seq_len, args.batch, args.kernels = 128, 2, ["exp", "inverse"]
    torch.manual_seed(0)
    df = measure(args.seq_len, args.batch, args.kernels)
    df.attrs["seq_len"] = args.seq_len
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "peakedness.csv", index=False, float_format="%.4g")
    table = df.drop(columns=["attention"]).to_markdown(index=False, floatfmt=".4g")
    (args.out / "peakedness.md").write_text(table + "\n")
    plot(df, args.out / "peakedness.png")
    print(table)
    print(f"wrote {args.out}/peakedness.{{csv,md,png}}")
    return df


if __name__ == "__main__":
    main()
