"""Input scaling shared by exact kernelized attention and RMFA, so that the two see the
same q·k and RMFA's D → ∞ limit is exactly `kernelized`."""

from __future__ import annotations

import math

import torch

from .kernels import radius_of_convergence
from .ppsbn import pre_scale


def scale_queries_keys(*tensors: torch.Tensor, ppsbn: bool) -> tuple[torch.Tensor, ...] | torch.Tensor:
    """ppSBN pre-scaling (when on), then × d^-1/4 (the √d temperature of softmax).

    Works per token, so q and k may come separately or stacked in one tensor.
    """
    s = tensors[0].shape[-1] ** -0.25
    out = tuple(pre_scale(t, s) if ppsbn else t * s for t in tensors)
    return out if len(out) > 1 else out[0]


def check_radius(kernel: str, bound: float, how: str) -> None:
    """Refuse inputs outside the radius of convergence (the series, hence RMF, diverges).

    This is the guard for inverse, log and sqrt without ppSBN: a clear error
    instead of inf/NaN or a silently divergent estimate.
    """
    radius = radius_of_convergence(kernel)
    if math.isfinite(radius) and not bound < radius:
        raise ValueError(
            f"kernel {kernel!r} has radius of convergence {radius:g}, but {how} = {bound:.4g} "
            f"reaches it: its Maclaurin series diverges there. Enable ppsbn (pre-scaling keeps "
            f"|q·k| ≤ d^-1/2) or use a kernel with infinite radius (exp, trigh)."
        )


def max_norm(x: torch.Tensor, key_padding_mask: torch.Tensor | None) -> float:
    norms = x.norm(dim=-1)  # [B, H, N]
    if key_padding_mask is not None:
        norms = norms * key_padding_mask[:, None, :]
    return float(norms.max()) if norms.numel() else 0.0


def check_qk_radius(kernel: str, q: torch.Tensor, k: torch.Tensor, key_padding_mask: torch.Tensor | None,
                    scale: float = 1.0) -> None:
    """Refuse a (scale·q)·(scale·k) that may leave the kernel's radius of convergence, for
    inputs without ppSBN: |q·k| ≤ max‖q‖·max‖k‖ (Cauchy–Schwarz), a cheap sufficient check."""
    bound = scale * scale * max_norm(q.detach().float(), None) * max_norm(k.detach().float(), key_padding_mask)
    check_radius(kernel, bound, "the bound max‖q‖·max‖k‖ on |q·k|")
