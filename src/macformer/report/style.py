"""One look per variant, the same in every plot (report, learning curves, benchmarks):
the colour names the attention and kernel, the marker the attention, the line style
the attention's family or its ablation, the hatch (bars) the ablation.

Line styles, one meaning everywhere (LINESTYLE_NOTE says it on the plots):
- solid: exact attention (softmax, kernelized: every weight computed);
- dashed: random-feature attention (rfa, rmfa, performer: weights approximated);
- dotted: the non-causal form; dash-dot: ppSBN ablated; dash-dot-dot: another
  protocol or a tag.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import matplotlib

from .variants import Variant, ppsbn_mark

STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10,
    "savefig.dpi": 110, "figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False,
    "hatch.linewidth": 0.6,
}
VALUE_FONTSIZE = 8  # the numbers written beside bars: readable at the PNG's natural size
# Maclaurin kernels, in the registry's kernel order: the dark tab20 shade of each pair
# for rmfa, the light one of the same hue for kernelized (the exact attention with that
# kernel). Blue, red, green, purple, cyan, then pink and olive for kernels added later;
# orange, brown and grey stay for rfa, performer and softmax.
_KERNEL_PAIRS = (0, 6, 4, 8, 18, 12, 16)
_BASE_COLOURS = {"softmax": "#404040", "softmax_materialized": "#9a9a9a", "rfa": "#ff7f0e",
                 "performer": "#8c564b"}
_MARKERS = {"softmax": "o", "softmax_materialized": "p", "rfa": "s", "performer": "D",
            "kernelized": "^", "rmfa": "v"}
EXACT, RANDOM_FEATURES = "-", "--"
NON_CAUSAL, NO_PPSBN, OTHER_PROTOCOL = ":", "-.", (0, (4, 1.5, 1, 1.5, 1, 1.5))
LINESTYLE_NOTE = ("solid: exact attention; dashed: random-feature attention; "
                  "dotted: non-causal form; dash-dot: ppSBN ablated; "
                  "dash-dot-dot: another protocol or a tag")


@dataclass(frozen=True)
class VariantStyle:
    color: str | tuple
    marker: str
    hatch: str | None  # bars
    linestyle: str | tuple  # lines
    filled: bool  # marker face

    def line(self) -> dict:
        """Keyword arguments of `Axes.plot` for this look."""
        return dict(color=self.color, linestyle=self.linestyle, marker=self.marker,
                    markerfacecolor=self.color if self.filled else "white")


@functools.cache
def random_features(attention: str) -> bool:
    """Whether the registry's `attention` approximates its weights with random features
    (it takes `num_features`); False for an attention the registry does not know."""
    from macformer.attention import ATTENTIONS, attention_options

    return attention in ATTENTIONS and "num_features" in attention_options(attention)


def kernel_colour(attention: str, kernel: str) -> tuple | None:
    from macformer.attention import KERNELS

    if kernel not in KERNELS or KERNELS.index(kernel) >= len(_KERNEL_PAIRS):
        return None
    return matplotlib.colormaps["tab20"](_KERNEL_PAIRS[KERNELS.index(kernel)]
                                         + (attention == "kernelized"))


def look(attention: str, kernel: str | None = None, *, ppsbn_ablated: bool = False,
         causal: bool | None = None, other: bool = False) -> VariantStyle:
    """The look of `attention` (with `kernel`), plain or in an ablated form: `other` is
    another protocol or a tagged run."""
    color = _BASE_COLOURS.get(attention) or (kernel and kernel_colour(attention, kernel))
    if not color:  # an attention or kernel not listed: a stable colour from its name
        color = matplotlib.colormaps["tab20b"](zlib.crc32(f"{attention}-{kernel}".encode()) % 20)
    hatch = "".join(h for h, on in (("//", ppsbn_ablated), ("..", causal is False),
                                    ("xx", other)) if on)
    linestyle = RANDOM_FEATURES if random_features(attention) else EXACT
    for ablated, style in ((causal is False, NON_CAUSAL), (ppsbn_ablated, NO_PPSBN),
                           (other, OTHER_PROTOCOL)):
        if ablated:
            linestyle = style
    return VariantStyle(color, _MARKERS.get(attention, "P"), hatch or None, linestyle,
                        filled=causal is not False)


def variant_style(variant: Variant) -> VariantStyle:
    """The look of a report row (variants.Variant)."""
    _, attention, kernel, ppsbn, _, causal, protocol, tag, pretrain = variant
    return look(attention, kernel, ppsbn_ablated=ppsbn_mark(attention, ppsbn) != "",
                causal=causal, other=bool(tag) or bool(pretrain) or protocol not in (None, "lra"))
