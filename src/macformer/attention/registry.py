"""One interface for every attention: `build_attention(name, *, head_dim, num_heads, **options)`.

Every variant is an nn.Module whose forward(q, k, v, key_padding_mask=None) takes
q, k, v of shape [batch, heads, seq, head_dim] and a [batch, seq] bool mask (True =
real token) and returns [batch, heads, seq, head_dim]. Variants register under a
name; a model swaps attention by name without knowing which it got.
"""

from __future__ import annotations

import inspect

from torch import nn

ATTENTION_REGISTRY: dict[str, type[nn.Module]] = {}


def register_attention(name: str):
    def add(cls: type[nn.Module]) -> type[nn.Module]:
        ATTENTION_REGISTRY[name] = cls
        cls.attention_name = name
        return cls

    return add


def attention_options(name: str) -> dict[str, object]:
    """The options `name` accepts, with their defaults."""
    cls = _lookup(name)
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k not in ("self", "head_dim", "num_heads")}


def attention_form(name: str, options) -> bool | None:
    """Whether `name` with `options` runs causally: the `causal` option's value, or its
    default; None for an attention without that option (softmax)."""
    defaults = attention_options(name)
    return bool(options.get("causal", defaults["causal"])) if "causal" in defaults else None


def attentions() -> tuple[str, ...]:
    """Every registered name, in the order registered."""
    return tuple(ATTENTION_REGISTRY)


def has_kernel(name: str) -> bool:
    """Whether `name` takes a dot-product kernel (the Hydra kernel group applies to it)."""
    return "kernel" in attention_options(name)


def variant_facts(name: str, options) -> dict:
    """kernel, ppsbn, num_features and causal of `name` with `options` (defaults filled
    in); None for a fact the attention has no option for."""
    defaults = attention_options(name)
    facts = {}
    for key in ("kernel", "ppsbn", "num_features"):
        facts[key] = options.get(key, defaults[key]) if key in defaults else None
    facts["ppsbn"] = None if facts["ppsbn"] is None else bool(facts["ppsbn"])
    facts["causal"] = attention_form(name, options)
    return facts


def variant_label(name: str, options) -> str:
    """`<name>[-<kernel>][-noppsbn][-causal|-noncausal][-D<features>]`, e.g.
    rmfa-inverse-causal, rmfa-exp-noppsbn-causal, rfa, softmax. An attention with a kernel
    names its kernel, ppSBN when off, and always its form (the Macformer rows run causally,
    the non-causal form is an ablation); the others say `causal` only when they run that
    way. D is named when it differs from the attention's default."""
    defaults = attention_options(name)
    facts = variant_facts(name, options)
    parts = [name]
    if facts["kernel"] is not None:
        parts.append(str(facts["kernel"]))
        if facts["ppsbn"] is False:
            parts.append("noppsbn")
        parts.append("causal" if facts["causal"] else "noncausal")
    elif facts["causal"]:
        parts.append("causal")
    if facts["num_features"] is not None and facts["num_features"] != defaults["num_features"]:
        parts.append(f"D{facts['num_features']}")
    return "-".join(parts)


def build_attention(name: str, *, head_dim: int, num_heads: int, **options) -> nn.Module:
    cls = _lookup(name)
    allowed = attention_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"attention {name!r} has no option(s) {', '.join(map(repr, unknown))}; "
            f"allowed options: {', '.join(allowed) or '(none)'}"
        )
    if head_dim < 1 or num_heads < 1:
        raise ValueError(f"head_dim and num_heads must be positive, got {head_dim} and {num_heads}")
    return cls(head_dim=head_dim, num_heads=num_heads, **options)


def _lookup(name: str) -> type[nn.Module]:
    if name not in ATTENTION_REGISTRY:
        raise ValueError(
            f"unknown attention {name!r}; allowed attentions: {', '.join(sorted(ATTENTION_REGISTRY))}"
        )
    return ATTENTION_REGISTRY[name]
