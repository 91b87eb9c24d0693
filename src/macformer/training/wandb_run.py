"""What a training run sends to W&B (logger=wandb), so that a dashboard reads like the
report's tables: the run is named, grouped and tagged by the tables' labels (the tags
come from the config's `run_tags` resolver, config.py), its config is the flattened
resolved settings plus the run's facts, and its summary holds the outcome that
summary.json records (status, best validation, test, tokens/s, memory).

The curves themselves go through Lightning's WandbLogger (val/..., train/..., perf/...,
and diag/... for the attention diagnostics: W&B makes one panel section per prefix).

A W&B server out of reach does not fail the run: wandb.init would retry for minutes and
then raise, so the server is probed first (a TCP connection, a few seconds at most) and
the run logs offline instead, with one warning (`wandb sync` uploads it later).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from urllib.parse import urlsplit

from macformer.lifecycle.record import COMPLETED

log = logging.getLogger(__name__)

DEFAULT_SERVER = "https://api.wandb.ai"
PROBE_SECONDS = 3.0  # a reachable server answers a TCP connection well within this
OFFLINE_MODES = ("offline", "disabled", "dryrun")

# summary.json keys copied into the W&B run summary under the same names: the columns a
# runs table sorts by (accuracies are fractions there, as in summary.json and the CSV).
SUMMARY_KEYS = ("status", "stop_reason", "error", "val_accuracy", "best_step", "test_accuracy",
                "chance_accuracy", "steps", "max_steps", "train_seconds", "train_tokens_per_second",
                "train_steps_per_second", "peak_memory_mb", "skipped_steps", "params", "device")


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


def server_unreachable(url: str, timeout: float = PROBE_SECONDS) -> str | None:
    """Why the W&B server at `url` cannot be reached (a TCP connection to its host and
    port within `timeout` seconds, name lookup included), or None when it answers."""
    parts = urlsplit(url)
    if not parts.hostname:
        return f"WANDB_BASE_URL={url!r} names no host"
    try:
        address = (parts.hostname, parts.port or (80 if parts.scheme == "http" else 443))
    except ValueError as error:  # a port that is not a number
        return f"WANDB_BASE_URL={url!r}: {error}"
    outcome: list[str | None] = []

    def connect():
        try:
            socket.create_connection(address, timeout=timeout).close()
            outcome.append(None)
        except OSError as error:
            outcome.append(error.strerror or str(error) or type(error).__name__)

    probe = threading.Thread(target=connect, daemon=True)  # a name lookup ignores socket timeouts
    probe.start()
    probe.join(timeout + 0.5)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def offline_unless_reachable(where) -> bool:
    """Online W&B (the default mode) whose server cannot be reached: switch this process
    to offline mode with one warning naming `where` the run is written; True if it did."""
    if os.environ.get("WANDB_MODE", "online").lower() in OFFLINE_MODES:
        return False
    url = os.environ.get("WANDB_BASE_URL") or DEFAULT_SERVER
    why = server_unreachable(url)
    if why is None:
        return False
    os.environ["WANDB_MODE"] = "offline"
    log.warning(f"W&B server {url} cannot be reached ({why}); logging offline under {where} "
                f"instead: upload it later with `wandb sync {where}/offline-run-*`")
    return True


def start(logger, settings: dict, facts: dict, environment: dict | None = None) -> None:
    """Log the flattened settings, the run's facts (`fact.task`, ...) and its environment
    (`environment.torch`, ...) as the config,
    and make the summary's val/accuracy the best one, not the last (offline when the
    server cannot be reached)."""
    offline_unless_reachable(f"{logger.save_dir}/wandb")
    run = logger.experiment
    run.config.update({**flatten(settings), **flatten(facts, "fact."), **flatten(environment or {}, "environment.")},
                      allow_val_change=True)
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
