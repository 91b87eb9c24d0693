"""What a fit measured, into the run's summary: steps, the best validation, throughput
and memory, read from the metrics the module and callbacks logged (perf/..., val/...)."""

from __future__ import annotations

PERF_KEYS = ("train_seconds", "train_tokens_per_second", "train_steps_per_second", "peak_memory_mb")


def collect(trainer, summary: dict) -> None:
    """Update `summary` from `trainer.callback_metrics` (scalars only)."""
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1}
    # perf/global_step: the steps the workers report (under ddp_spawn this process trained none)
    summary["steps"] = max(int(trainer.global_step), int(metrics.get("perf/global_step", 0)))
    if "val/best_accuracy" in metrics:
        summary["val_accuracy"] = metrics["val/best_accuracy"]
        summary["best_step"] = int(metrics["val/best_step"])
    for key in PERF_KEYS:
        if f"perf/{key}" in metrics:
            summary[key] = metrics[f"perf/{key}"]
    if "perf/throughput_steps" in metrics:
        summary["throughput_steps"] = int(metrics["perf/throughput_steps"])
