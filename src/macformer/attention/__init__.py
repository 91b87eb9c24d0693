"""Attention variants behind one interface: `build_attention(name, head_dim=, num_heads=, **options)`."""

from . import kernelized, performer, rfa, rmfa, softmax  # noqa: F401  (register the variants)
from .kernels import KERNELS
from .registry import (
    ATTENTION_REGISTRY,
    attention_form,
    attention_options,
    build_attention,
    register_attention,
)

ATTENTIONS: tuple[str, ...] = tuple(sorted(ATTENTION_REGISTRY))
# The attentions that take a `kernel` option (the Hydra kernel group applies to these only).
KERNEL_ATTENTIONS: tuple[str, ...] = ("kernelized", "rmfa")

__all__ = ["ATTENTIONS", "KERNEL_ATTENTIONS", "KERNELS", "attention_form", "attention_options", "build_attention",
           "register_attention"]
