"""Table rows: a variant is the attention's form (attention, kernel, ppSBN, features,
causal or not), the protocol and the run tag, within one profile; seeds are averaged
within it. Its label names all of that, e.g. `rmfa-exp-noppsbn (causal)`,
`rfa (non-causal) [authors]`, `softmax #lr2`."""

from __future__ import annotations

import functools

from macformer.attention.kernels import KERNELS

from .format import py
from .load import ATTENTION_ORDER, DEFAULT_PROTOCOL, VARIANT_KEY, Runs, _as_bool

Variant = tuple  # (profile, attention, kernel, ppsbn, num_features, causal, protocol, tag, pretrain)


def variant_of(row) -> Variant:
    return tuple(py(row[k]) for k in VARIANT_KEY)


def variant_dict(variant: Variant) -> dict:
    return dict(zip(VARIANT_KEY, variant, strict=True))


def variants_of(runs: Runs) -> list[Variant]:
    """The variants of the runs in table order (one profile expected)."""
    return sorted({variant_of(row) for _, row in runs.frame.iterrows()}, key=variant_sort_key)


def variant_sort_key(variant: Variant) -> tuple:
    """softmax, rfa, performer, kernelized, rmfa (kernels in paper order, the no-ppSBN
    ablation rows after the ppSBN ones, the non-causal form after the causal one),
    anything else alphabetically after; tagged and other-protocol rows after the plain one."""
    _, attention, kernel, ppsbn, num_features, causal, protocol, tag, pretrain = variant
    a = ATTENTION_ORDER.index(attention) if attention in ATTENTION_ORDER else len(ATTENTION_ORDER)
    k = KERNELS.index(kernel) if kernel in KERNELS else len(KERNELS)
    p = {None: 0, True: 1, False: 2}.get(_as_bool(ppsbn), 3)
    c = {None: 0, True: 1, False: 2}.get(_as_bool(causal), 3)
    return (a, attention, kernel is not None, p, k, str(kernel),
            num_features if isinstance(num_features, int) else -1, c,
            protocol != DEFAULT_PROTOCOL, str(protocol), tag is not None, str(tag),
            pretrain is not None, str(pretrain))


def variant_label(variant: Variant, variants: list[Variant] | None = None) -> str:
    """`rmfa-exp (causal)`, `rmfa-exp-noppsbn (non-causal)`, `rfa-D64 (causal) [authors] #lr2`,
    `softmax +spt-mlm` (self-pretrained); `-D<n>` only when `variants` (the rows it is shown
    with) vary the number of features."""
    _, attention, kernel, ppsbn, num_features, causal, protocol, tag, pretrain = variant
    name = attention + (f"-{kernel}" if kernel else "") + ppsbn_mark(attention, ppsbn)
    if variants is not None and features_vary(variants) and num_features is not None:
        name += f"-D{num_features}"
    if causal is not None:
        name += " (causal)" if causal else " (non-causal)"
    if protocol and protocol != DEFAULT_PROTOCOL:
        name += f" [{protocol}]"
    if tag:
        name += f" #{tag}"
    if pretrain:
        name += f" +spt-{pretrain}"
    return name


def ppsbn_mark(attention: str, ppsbn: bool | None) -> str:
    """`-noppsbn` / `-ppsbn` when ppSBN differs from the attention's default (on for
    kernelized and rmfa, off for softmax), else ""."""
    if ppsbn is None:
        return ""
    default = _ppsbn_default(attention)
    if default is None or ppsbn == default:
        return ""
    return "-ppsbn" if ppsbn else "-noppsbn"


@functools.cache
def _ppsbn_default(attention: str) -> bool | None:
    from macformer.attention import attention_options, attentions

    if attention not in attentions():
        return True  # an unknown attention with the option: mark it when off, as for rmfa
    default = attention_options(attention).get("ppsbn")
    return None if default is None else bool(default)


def features_vary(variants: list[Variant]) -> bool:
    seen: dict[tuple, set] = {}
    for v in variants:
        seen.setdefault(v[:4] + v[5:], set()).add(v[4])
    return any(len(s) > 1 for s in seen.values())
