"""Attention variants behind one interface: `build_attention(name, head_dim=, num_heads=, **options)`.

A variant is added in one file (its class under `@register_attention(name)`) plus one
YAML (conf/attention/<name>.yaml); what the rest of the harness knows of it (whether it
has a kernel, its causal form, its run label) comes from the registry.
"""

from . import kernelized, performer, rfa, rmfa, softmax  # noqa: F401  (register the variants)
from .kernels import KERNELS
from .registry import (
    ATTENTION_REGISTRY,
    attention_form,
    attention_options,
    attentions,
    build_attention,
    has_kernel,
    register_attention,
    variant_facts,
    variant_label,
)

# Snapshots of the registry after the built-in variants registered (the live answers:
# attentions(), has_kernel()).
ATTENTIONS: tuple[str, ...] = tuple(sorted(ATTENTION_REGISTRY))
KERNEL_ATTENTIONS: tuple[str, ...] = tuple(name for name in ATTENTIONS if has_kernel(name))

__all__ = ["ATTENTIONS", "KERNEL_ATTENTIONS", "KERNELS", "attention_form", "attention_options",
           "attentions", "build_attention", "has_kernel", "register_attention", "variant_facts",
           "variant_label"]
