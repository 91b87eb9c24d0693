"""Which path computes RMFA, resolved in one place; the paths share one signature
(`PATHS[path](q, k, v, key_padding_mask, features, ppsbn=, causal=, denominator_floor=)`).

- `reference`: PyTorch (reference.py): the grouped eager feature map and linear
  attention; the CPU's path (fewest copies; launches cost little there), and a GPU's
  when Triton cannot run.
- `triton`: the fused Triton kernels (triton_rmfa.py); a CUDA GPU's path. On a CPU it
  runs only in the Triton interpreter (TRITON_INTERPRET=1), for tests.
- `auto`: triton on a CUDA tensor when Triton is installed and the head dimension
  fits the kernels, else reference (on a GPU saying why, once).

Importing this module does not import triton: triton_rmfa.py loads its kernels on first use.
"""

from __future__ import annotations

import functools
import logging
import os

from .reference import rmfa_reference
from .triton_rmfa import rmfa_triton, supported

PATHS = {"reference": rmfa_reference, "triton": rmfa_triton}  # the paths, by name
PATH_OPTIONS = ("auto", *PATHS)  # the `path` option's values

log = logging.getLogger(__name__)


def check_path(path: str) -> str:
    if path not in PATH_OPTIONS:
        raise ValueError(f"path={path!r} is not allowed; allowed values: {', '.join(PATH_OPTIONS)}")
    return path


@functools.cache
def triton_missing() -> str | None:
    """Why the Triton path cannot run here, or None."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return "triton is not installed (pip install triton)"
    return None


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def resolve_path(path: str, is_cuda: bool, head_dim: int) -> str:
    """The path that runs for `path` on this device; a path that cannot run is a one-line error."""
    why = triton_missing()
    if why is None and not supported(head_dim):
        why = f"the Triton kernels need a head dimension that is a power of two in 16..128, got {head_dim}"
    if why is None and not (is_cuda or interpreting()):
        why = "the Triton kernels need a CUDA tensor (or TRITON_INTERPRET=1 on a CPU)"
    if path == "triton":
        if why is not None:
            raise ValueError(f"rmfa path=triton cannot run: {why}; allowed values: {', '.join(PATH_OPTIONS)}")
        return "triton"
    if path != "auto":
        return path
    if not is_cuda:
        return "reference"
    if why is None:
        return "triton"
    _say_once(f"rmfa path=auto on a GPU falls back to the reference path: {why}")
    return "reference"


@functools.cache
def _say_once(message: str) -> None:
    log.warning(message)


def paths_taken(model) -> str | None:
    """The paths `model`'s attentions last ran (e.g. "triton"), for the run summary; None
    when none of them has a choice of path."""
    taken = sorted({p for m in model.modules() if (p := getattr(m, "last_path", None))})
    return ", ".join(taken) or None
