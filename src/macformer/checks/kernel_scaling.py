"""A kernel that needs ppSBN: refused before training when ppSBN is off.

The Maclaurin series of inverse, log and sqrt converges only for |q·k| < 1 (their
radius of convergence); beyond it f is undefined and the random features estimate a
divergent sum. ppSBN pre-scaling keeps |q·k| ≤ d^-1/2 < 1. Without it q·k is the dot
product of learned projections, with no bound: at initialisation max‖q‖·max‖k‖ is
already above 1, so the attention's own guard refuses the first forward pass. Only
the kernels of infinite radius (exp, trigh) can run without ppSBN.
"""

from __future__ import annotations

import math

from .errors import ConfigError


def check_kernel_scaling(attention: str, options: dict) -> None:
    """ConfigError when `attention`'s kernel has a finite radius and ppSBN is off."""
    from macformer.attention import attention_options, has_kernel
    from macformer.attention.kernels import KERNEL_TABLE, radius_of_convergence

    if not has_kernel(attention):
        return
    defaults = attention_options(attention)
    kernel = options.get("kernel", defaults["kernel"])
    ppsbn = options.get("ppsbn", defaults.get("ppsbn", True))
    if ppsbn is not False or kernel not in KERNEL_TABLE:
        return
    radius = radius_of_convergence(kernel)
    if math.isfinite(radius):
        infinite = ", ".join(k for k, spec in KERNEL_TABLE.items() if not math.isfinite(spec.radius))
        raise ConfigError(
            f"kernel={kernel} conflicts with attention.options.ppsbn=false: the Maclaurin series of "
            f"{kernel} converges only for |q·k| < {radius:g} (its radius of convergence), and without "
            f"ppSBN q·k has no bound, so attention={attention} refuses the first batch; set "
            f"attention.options.ppsbn=true, or use a kernel of infinite radius: kernel={infinite.replace(', ', '|')}")
