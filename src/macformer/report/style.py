"""One look per variant, the same in every plot and every profile: the colour names
the attention and kernel, the marker the attention, the hatch / line style the
ablations (no ppSBN, the non-causal form, another protocol or a tag)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import matplotlib

from .variants import Variant, ppsbn_mark

STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10,
    "savefig.dpi": 110, "figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
    "hatch.linewidth": 0.6,
}
# Maclaurin kernels: the dark tab20 shade for rmfa, the light one of the same hue for
# kernelized (the exact attention with that kernel).
_KERNEL_COLOURS = {"exp": 0, "inverse": 6, "log": 4, "trigh": 8, "sqrt": 18}
_BASE_COLOURS = {"softmax": "#404040", "softmax_materialized": "#9a9a9a", "rfa": "#ff7f0e",
                 "performer": "#8c564b"}
_MARKERS = {"softmax": "o", "softmax_materialized": "o", "rfa": "s", "performer": "D",
            "kernelized": "^", "rmfa": "v"}


@dataclass(frozen=True)
class VariantStyle:
    color: str | tuple
    marker: str
    hatch: str | None  # bars
    linestyle: str  # lines
    filled: bool  # marker face


def variant_style(variant: Variant) -> VariantStyle:
    _, attention, kernel, ppsbn, _, causal, protocol, tag = variant
    tab20 = matplotlib.colormaps["tab20"]
    if attention in _BASE_COLOURS:
        color = _BASE_COLOURS[attention]
    elif attention in ("rmfa", "kernelized") and kernel in _KERNEL_COLOURS:
        color = tab20(_KERNEL_COLOURS[kernel] + (attention == "kernelized"))
    else:  # an attention or kernel not listed: a stable colour from its name
        color = matplotlib.colormaps["tab20b"](zlib.crc32(f"{attention}-{kernel}".encode()) % 20)
    ablated = ppsbn_mark(attention, ppsbn) != ""  # ppSBN off where it is on by default, or on
    hatch = "".join(h for h, on in (("//", ablated), ("..", causal is False),
                                    ("xx", bool(tag) or protocol not in (None, "lra"))) if on)
    linestyle = "--" if ablated else (":" if causal is False else "-")
    if tag or protocol not in (None, "lra"):
        linestyle = "-."
    return VariantStyle(color, _MARKERS.get(attention, "P"), hatch or None, linestyle,
                        filled=causal is not False)
