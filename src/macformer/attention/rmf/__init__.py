"""RMFA's code paths (README.md): `rmfa_reference` (PyTorch) and `rmfa_triton` (the fused
Triton kernels), one signature, chosen by name from paths.PATHS; naive.py, the definition
written plainly, is what the tests hold both to. Importing this package does not import
triton: the kernels load on the Triton path's first call."""

from .paths import PATH_OPTIONS, PATHS, resolve_path
from .reference import rmfa_reference
from .triton_rmfa import rmfa_triton

__all__ = ["PATHS", "PATH_OPTIONS", "resolve_path", "rmfa_reference", "rmfa_triton"]
