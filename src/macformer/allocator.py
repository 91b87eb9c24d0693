"""Keep freed memory in the process instead of handing it back to the OS (glibc only).

glibc serves every large block (each [batch, heads, N, features] tensor) with mmap
and returns it with munmap when freed, so every such op of every step page-faults
its output in again. Linear attention runs many elementwise ops on large tensors,
and on CPU this costs it more than the arithmetic: rmfa forward+backward at 16384
tokens was about 4× faster with the memory kept. The same tuning as the environment
variables MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<huge>, applied at run time.
Set MACFORMER_SYSTEM_ALLOCATOR=1 to leave glibc's defaults alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the tuning once; True when it is in effect."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("MACFORMER_SYSTEM_ALLOCATOR") == "1" or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt  # absent from musl and other non-glibc C libraries
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt returns 1 on success.
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    return _applied


def allocator_label() -> str:
    return "glibc, freed memory kept" if _applied else "system default"
