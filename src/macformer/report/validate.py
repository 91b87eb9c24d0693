"""What a summary must hold to be reported: every field the report reads, against the
schema (macformer/record.py). A summary that breaks a rule is listed as invalid with
the reason and never shown as a result: `"test_accuracy": true` is not 100 %, and a
status such as `"complete"` is not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from macformer.checks.rules import Boolean, Integer, Number, OneOf, SafeName, Text, problem
from macformer.lifecycle.record import STATUSES

FRACTION = Number(0, 1, null=True)
COUNT = Integer(0, null=True)
AMOUNT = Number(0, null=True)  # seconds, rates, MiB: finite and not negative
TEXT = Text(null=True)


def summary_rules() -> dict[str, object]:
    """Built per call: an attention registered later (a plug-in, a test) is a known name too."""
    from macformer.attention import KERNELS, attentions
    from macformer.checks.settings import protocol_names
    from macformer.data.tasks import TASKS

    return {
        "task": OneOf(TASKS),
        "attention": OneOf(attentions()),
        "status": OneOf(STATUSES),
        "kernel": OneOf((*KERNELS, None)),
        "ppsbn": Boolean(null=True),
        "causal": Boolean(null=True),
        "num_features": Integer(1, null=True),
        "protocol": OneOf((*protocol_names(), None)),
        "dataset": TEXT,
        "seed": COUNT,
        "profile": TEXT,
        "tag": SafeName(null=True),
        "error": TEXT,
        "stop_reason": TEXT,
        "val_accuracy": FRACTION,
        "test_accuracy": FRACTION,
        "chance_accuracy": FRACTION,
        "test_examples": COUNT,
        "best_step": COUNT,
        "steps": COUNT,
        "max_steps": COUNT,
        "failed_step": COUNT,
        "skipped_steps": COUNT,
        "throughput_steps": COUNT,
        "train_seconds": AMOUNT,
        "train_tokens_per_second": AMOUNT,
        "train_steps_per_second": AMOUNT,
        "peak_memory_mb": AMOUNT,
        "device": TEXT,
        "attention_path": TEXT,
        "params": COUNT,
        "seq_len": Integer(1, null=True),
        "batch_size": Integer(1, null=True),
        "config_hash": TEXT,
        "start_time": TEXT,
        "end_time": TEXT,
        "environment": EnvironmentObject(),
    }


@dataclass(frozen=True)
class EnvironmentObject:
    """summary.json's `environment`: an object (its gpu an object or null), or null in a
    summary written before the field; the report describes it in one line."""

    def allows(self, value) -> bool:
        return value is None or (isinstance(value, dict) and (
            value.get("gpu") is None or isinstance(value["gpu"], dict)))

    def describe(self) -> str:
        return "an object (keys: lifecycle.environment.ENVIRONMENT_SCHEMA, gpu an object or null) or null"


REQUIRED = ("task", "attention", "status")


def invalid_reason(record: object) -> str | None:
    """Why `record` cannot be reported, in one line, or None when it can."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key in REQUIRED:
        if record.get(key) in (None, ""):
            return f"no {key!r}"
    for key, rule in summary_rules().items():
        found = problem(key, record.get(key), rule)
        if found:
            return found
    return None
