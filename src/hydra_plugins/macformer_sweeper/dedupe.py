"""Sweep jobs without duplicates: the kernel group matters only to attentions with a kernel.

Hydra's basic sweeper runs the cartesian product of the swept values, so
`attention=softmax,rmfa kernel=exp,inverse` would train softmax twice. `dedupe_jobs`
drops the kernel override from jobs whose attention has no kernel (the attention
registry says which have one) and keeps the first of any identical jobs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

KERNEL_KEYS = ("kernel", "kernel.name")


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _attention_of(job: Sequence[str], default_attention: str) -> str:
    for override in job:
        if _key(override) == "attention":
            return override.split("=", 1)[1]
    return default_attention


def dedupe_jobs(jobs: Sequence[Sequence[str]], default_attention: str) -> list[list[str]]:
    """The jobs (lists of key=value overrides), minus kernel overrides that do nothing, minus repeats."""
    from macformer.attention import attentions, has_kernel

    known = set(attentions())
    seen: set[tuple[str, ...]] = set()
    kept: list[list[str]] = []
    for job in jobs:
        attention = _attention_of(job, default_attention)
        if attention in known and not has_kernel(attention):  # an unknown name fails in its job
            job = [o for o in job if _key(o) not in KERNEL_KEYS]
        key = tuple(job)
        if key not in seen:
            seen.add(key)
            kept.append(list(job))
    return kept


def new_sweep_id() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M%S")
