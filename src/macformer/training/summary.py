"""`summary.json`: one small JSON file per run, read by the report (glob `runs/**/summary.json`).

SCHEMA lists every key with its meaning; the README's table is the same list. The
file is written atomically (a temporary file beside it, then os.replace), so a
reader never sees half a summary; a failed or interrupted run writes one too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from macformer import atomic

SUMMARY_NAME = "summary.json"
COMPLETED, FAILED, INTERRUPTED = "completed", "failed", "interrupted"

SCHEMA: dict[str, str] = {
    "task": "LRA task: listops, text, retrieval, image, pathfinder, pathx",
    "attention": "attention variant (softmax, rfa, performer, kernelized, rmfa)",
    "kernel": "dot-product kernel for kernelized/rmfa, null for the others",
    "ppsbn": "ppSBN pre/post scaling on (kernelized/rmfa), null where the attention has none",
    "num_features": "random features D (rmfa, rfa, performer), null for exact attentions",
    "seed": "global seed",
    "profile": "smoke, cpu or paper",
    "status": "completed, failed or interrupted",
    "error": "the exception (type: message) of a failed or interrupted run, else null",
    "val_accuracy": "best validation accuracy (fraction)",
    "test_accuracy": "test accuracy of the best-validation checkpoint (fraction)",
    "best_step": "optimiser step of the best validation accuracy",
    "steps": "optimiser steps done",
    "max_steps": "optimiser steps planned",
    "train_seconds": "seconds in training batches (validation and data loading excluded)",
    "train_tokens_per_second": "positions (batch × padded length) per second, first steps excluded",
    "train_steps_per_second": "optimiser steps per second, first steps excluded",
    "peak_memory_mb": "CUDA max allocated (GPU) or peak process RSS during training (CPU), MiB",
    "device": "e.g. 'cpu, 2 threads' or the GPU name (× processes under DDP)",
    "params": "trainable parameters",
    "seq_len": "sequence length the model saw (per document for retrieval)",
    "batch_size": "batch size per process",
    "config_hash": "sha256 (16 hex) of the resolved settings that change the result",
    "git_commit": "HEAD of the working tree ('+dirty' when it has changes), null outside git",
    "start_time": "ISO 8601 UTC start",
    "end_time": "ISO 8601 UTC end",
    "run_dir": "the run's output folder",
}


def write_summary(path: str | os.PathLike, summary: dict) -> Path:
    """Atomically write `summary` (keys of SCHEMA) as JSON to `path`."""
    missing = sorted(set(SCHEMA) - set(summary))
    if missing:
        raise ValueError(f"summary lacks keys: {', '.join(missing)}")
    data = json.dumps(summary, indent=2, sort_keys=False, default=str) + "\n"
    return atomic.write_text(path, data)


def read_summary(path: str | os.PathLike) -> dict | None:
    """The summary at `path`, or None when there is none or it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
