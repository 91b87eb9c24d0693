"""What a training run sends to W&B (logger=wandb), so that a dashboard reads like the
report's tables: the run is named, grouped and tagged by the tables' labels, its config
is the flattened resolved settings plus the run's facts, and its summary holds the
outcome that summary.json records (status, best validation, test, tokens/s, memory).

The curves themselves go through Lightning's WandbLogger (val/..., train/..., perf/...,
and diag/... for the attention diagnostics: W&B makes one panel section per prefix).
"""

from __future__ import annotations

import sys

from macformer.lifecycle.record import COMPLETED

# summary.json keys copied into the W&B run summary under the same names: the columns a
# runs table sorts by (accuracies are fractions there, as in summary.json and the CSV).
SUMMARY_KEYS = ("status", "stop_reason", "error", "val_accuracy", "best_step", "test_accuracy",
                "chance_accuracy", "steps", "max_steps", "train_seconds", "train_tokens_per_second",
                "train_steps_per_second", "peak_memory_mb", "skipped_steps", "params", "device")


def run_tags(task: str, label: str, attention, protocol: str, seed: int, profile: str,
             sweep_id: str | None) -> list[str]:
    """`key:value` tags, one per label of the tables (filterable on a dashboard):
    task, row, form (causal / non-causal), kernel, seed, sweep, protocol, profile."""
    from macformer.attention import variant_facts

    facts = variant_facts(attention["name"], attention.get("options") or {})
    form = None if facts["causal"] is None else ("causal" if facts["causal"] else "non-causal")
    tags = {"task": task, "row": label, "form": form, "kernel": facts["kernel"], "seed": seed,
            "sweep": sweep_id, "protocol": protocol, "profile": profile}
    return [f"{key}:{value}"[:64] for key, value in tags.items() if value is not None]


def flatten(settings: dict, prefix: str = "") -> dict:
    """{"task": {"lr": 1e-3}} -> {"task.lr": 1e-3}: one column per setting in the runs table."""
    flat = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def is_wandb(logger) -> bool:
    return type(logger).__name__ == "WandbLogger"


def start(logger, settings: dict, facts: dict) -> None:
    """Log the flattened settings and the run's facts (`fact.task`, ...) as the config,
    and make the summary's val/accuracy the best one, not the last."""
    run = logger.experiment
    run.config.update({**flatten(settings), **flatten(facts, "fact.")}, allow_val_change=True)
    run.define_metric("val/accuracy", summary="max")
    run.define_metric("val/loss", summary="min")


def finish(summary: dict) -> None:
    """Write the outcome into this job's W&B run summary and end the run, so that the next
    job of a multirun starts its own. Nothing when no W&B run is open."""
    if "wandb" not in sys.modules:
        return
    import wandb

    if wandb.run is None:
        return
    wandb.run.summary.update({key: summary.get(key) for key in SUMMARY_KEYS})
    wandb.finish(exit_code=0 if summary.get("status") == COMPLETED else 1)
