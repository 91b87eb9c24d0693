"""Sweep jobs without duplicates: the kernel group matters only to attentions with a kernel.

Hydra's basic sweeper runs the cartesian product of the swept values, so
`attention=softmax,rmfa kernel=exp,inverse` would train softmax twice. `dedupe_jobs`
drops the kernel override from jobs whose attention has no kernel and keeps the first
of any identical jobs; the sweeper in hydra_plugins/macformer_sweeper applies it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from macformer.attention import KERNEL_ATTENTIONS

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
    seen: set[tuple[str, ...]] = set()
    kept: list[list[str]] = []
    for job in jobs:
        attention = _attention_of(job, default_attention)
        if attention not in KERNEL_ATTENTIONS:
            job = [o for o in job if _key(o) not in KERNEL_KEYS]
        key = tuple(job)
        if key not in seen:
            seen.add(key)
            kept.append(list(job))
    return kept


def new_sweep_id() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M%S")
