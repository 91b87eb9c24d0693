"""The two figures of benchmarks/attention_speed.py: time and peak memory against N.

Each variant keeps the look it has in every other plot (macformer.report.style). The
line style names the attention's family, which holds for time and memory alike:
solid = exact attention, dashed = random-feature attention. The kernels of a
random-feature attention (rmfa's) only set the coefficients of its features, so they
cost the same: they are drawn as one line (the median over kernels) with a band for
their measured spread, not as lines on top of each other. Forms of rmfa-exp keep its
colour: dotted and hollow is the non-causal form (the module's default, which the
kernel rows use), dashed the causal one, dash-dot-dot another feature-map path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator  # noqa: E402

from macformer.report.style import STYLE, look, random_features  # noqa: E402

FAMILY_NOTE = ("solid: exact attention · dashed: random-feature attention · dotted: non-causal form · "
               "dash-dot-dot: another path (× reference)")


@dataclass
class Line:
    label: str
    attention: str
    kernel: str | None
    points: pd.DataFrame  # seq_len, value, low, high (low/high: spread over merged kernels)
    form: str = ""  # "" or the benchmark's form of the variant (causal, reference)


# Forms of one variant (same colour): a marker of their own, since "other" sets one line style.
_FORM_MARKERS = {"reference": "x"}


def line_style(line: Line):
    """The look of a line: the variant's, in the form measured. The benchmark's rmfa
    rows are the module's default, non-causal form unless the form says causal."""
    if line.attention != "rmfa":
        return look(line.attention, line.kernel, other=bool(line.form))
    style = look(line.attention, line.kernel, causal=line.form == "causal",
                 other=line.form not in ("", "causal"))
    return replace(style, marker=_FORM_MARKERS.get(line.form, style.marker))


def lines(panel: pd.DataFrame, column: str) -> list[Line]:
    """One line per variant of one panel's rows, in the order measured; the kernels of a
    random-feature attention merged into one; each other form of a variant its own line."""
    out = []
    forms = panel.form.fillna("") if "form" in panel else pd.Series("", index=panel.index)
    for variant, rows in panel[forms != ""].groupby("variant", sort=False):
        points = rows.set_index("seq_len")[column].sort_index()
        out.append(Line(variant, rows.attention.iloc[0], rows.kernel.iloc[0] or None, pd.DataFrame(
            {"value": points, "low": points, "high": points}).reset_index(), rows.form.iloc[0]))
    for attention, rows in panel[forms == ""].groupby("attention", sort=False):
        kernels = [k for k in dict.fromkeys(rows.kernel) if isinstance(k, str) and k]
        if random_features(attention) and len(kernels) > 1:
            by_n = rows.groupby("seq_len")[column]
            points = pd.DataFrame({"value": by_n.median(), "low": by_n.min(), "high": by_n.max()})
            label = (f"{attention}, any of its {len(kernels)} kernels ({', '.join(kernels)}): "
                     "same cost, one line\n(median; band: their measured spread)")
            out.insert(0, Line(label, attention, kernels[0], points.reset_index()))
            continue
        for variant, part in rows.groupby("variant", sort=False):
            kernel = part.kernel.iloc[0] if isinstance(part.kernel.iloc[0], str) else None
            points = part.set_index("seq_len")[column].sort_index()
            out.append(Line(variant, attention, kernel or None, pd.DataFrame(
                {"value": points, "low": points, "high": points}).reset_index()))
    return out


def _length(n: float) -> str:
    return f"{n / 1024:g}k" if n >= 1024 else f"{n:g}"


def figure(df: pd.DataFrame, column: str, ylabel: str):
    """The figure (one panel per head dim and mode) before it is saved."""
    head_dims = sorted(df.head_dim.unique())
    modes = list(dict.fromkeys(df["mode"]))  # in the order measured
    lengths = sorted(df.seq_len.unique())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(head_dims), len(modes), squeeze=False, layout="constrained",
                                 figsize=(11, 0.6 + 3.8 * len(head_dims)))
        handles: dict[str, object] = {}
        for i, hd in enumerate(head_dims):
            for j, mode in enumerate(modes):
                ax = axes[i][j]
                panel = df[(df.head_dim == hd) & (df["mode"] == mode)]
                for line in lines(panel, column):
                    style = line_style(line)
                    p = line.points.sort_values("seq_len")
                    (drawn,) = ax.plot(p.seq_len, p.value.clip(lower=1e-3), markersize=4,
                                       linewidth=1.4, label=line.label, **style.line())
                    if (p.high > p.low).any():
                        ax.fill_between(p.seq_len, p.low.clip(lower=1e-3), p.high, alpha=0.2,
                                        color=style.color, linewidth=0)
                    handles.setdefault(line.label, drawn)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.xaxis.set_major_locator(FixedLocator(lengths))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _length(v)))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.set_xlabel("sequence length N (log scale)")
                ax.set_ylabel(f"{ylabel} (log scale)")
                ax.set_title(f"{mode.replace('_', ' + ')}, head dim {hd}")
                ax.grid(True, which="major", color="0.9", linewidth=0.6)
                ax.set_axisbelow(True)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=3,
                   frameon=False, fontsize=8)
        b, h = int(df.batch.iloc[0]), int(df.heads.iloc[0])
        fig.suptitle(f"{ylabel} against N, batch {b}, {h} heads — {df.device.iloc[0]}\n"
                     f"{FAMILY_NOTE}")
    return fig


def plot(df: pd.DataFrame, column: str, ylabel: str, path: Path) -> None:
    fig = figure(df, column, ylabel)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
