"""Fail before training on bad settings, naming the key and what it accepts.

Unknown group options (task=foo, attention=bar) are refused by Hydra itself with the
list of available options; this module checks values: sizes, names inside groups,
and combinations that contradict each other.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from macformer.attention import KERNELS, attention_options, attentions, has_kernel

PROFILES = ("smoke", "cpu", "paper")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
PRECISIONS = ("auto", "32-true", "32", "16-mixed", "bf16-mixed", "64-true")


class ConfigError(ValueError):
    """A setting that cannot work; the message names the key and the allowed values."""


def _positive(cfg: DictConfig, key: str, allow_null: bool = False) -> None:
    value = OmegaConf.select(cfg, key)
    if value is None and allow_null:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key} must be a positive integer{' or null' if allow_null else ''}, got {value!r}")


def _one_of(cfg: DictConfig, key: str, allowed: Sequence) -> None:
    value = OmegaConf.select(cfg, key)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; allowed values: {', '.join(map(str, allowed))}")


def check_config(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """Raise ConfigError for the first bad setting. `overrides`: the command line's key=value list."""
    from macformer.data.tasks import TASKS, task_spec
    from macformer.data.variants import datasets_of

    _one_of(cfg, "task.name", TASKS)
    _one_of(cfg, "run.profile", PROFILES)
    _one_of(cfg, "attention.name", attentions())
    name = cfg.attention.name
    options = dict(cfg.attention.options or {})
    allowed = attention_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"attention.options.{unknown[0]} is not an option of attention {name!r}; "
                          f"allowed options: {', '.join(allowed) or '(none)'}")
    if has_kernel(name):
        _one_of(cfg, "attention.options.kernel", KERNELS)
    else:
        explicit = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in ("kernel", "kernel.name")]
        if explicit:
            raise ConfigError(f"{explicit[0]!r} conflicts with attention={name}: the kernel group applies "
                              f"only to attentions with a kernel: "
                              f"{', '.join(a for a in attentions() if has_kernel(a))}")
    if "num_features" in options:
        _positive(cfg, "attention.options.num_features")
    if "max_degree" in options:
        _positive(cfg, "attention.options.max_degree")

    for key in ("task.batch_size", "task.max_steps", "task.eval_every", "model.hidden_dim",
                "model.encoder.dim", "model.encoder.num_layers", "model.encoder.num_heads",
                "model.encoder.head_dim", "model.encoder.ff_dim"):
        _positive(cfg, key)
    for key in ("data.max_length", "data.limit_train", "data.limit_eval"):
        _positive(cfg, key, allow_null=True)
    if not isinstance(cfg.data.num_workers, int) or cfg.data.num_workers < 0:
        raise ConfigError(f"data.num_workers must be an integer ≥ 0, got {cfg.data.num_workers!r}")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
        raise ConfigError(f"seed must be an integer ≥ 0, got {cfg.seed!r}")
    lr = cfg.task.lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ConfigError(f"task.lr must be a positive finite number, got {lr!r}")
    dropout = cfg.model.encoder.dropout
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError(f"model.encoder.dropout must be in [0, 1), got {dropout!r}")

    warmup, steps = cfg.task.warmup_steps, cfg.task.max_steps
    if not isinstance(warmup, int) or isinstance(warmup, bool) or not 0 <= warmup < steps:
        raise ConfigError(f"task.warmup_steps={warmup!r} must be an integer in [0, task.max_steps={steps})")
    if cfg.task.eval_every > steps:
        raise ConfigError(f"task.eval_every={cfg.task.eval_every} exceeds task.max_steps={steps}: "
                          f"the run would never validate, so it would have no best checkpoint")
    spec = task_spec(cfg.task.name)
    _one_of(cfg, "data.dataset", datasets_of(cfg.task.name))
    if cfg.data.max_length is not None and cfg.data.max_length > spec.seq_len:
        raise ConfigError(f"data.max_length={cfg.data.max_length} exceeds the length of task "
                          f"{spec.name} ({spec.seq_len}); allowed: 1..{spec.seq_len} or null")

    _one_of(cfg, "trainer.accelerator", ACCELERATORS)
    _one_of(cfg, "trainer.precision", PRECISIONS)
    _one_of(cfg, "trainer.deterministic", ("auto", True, False, "warn"))
    if cfg.trainer.accelerator == "cpu" and cfg.trainer.precision in ("16-mixed",):
        raise ConfigError("trainer.precision=16-mixed conflicts with trainer.accelerator=cpu: mixed "
                          "precision is for GPUs; allowed on CPU: 32-true, bf16-mixed, auto")
    strategy = str(cfg.trainer.strategy)
    devices = cfg.trainer.devices
    if strategy.startswith("ddp") and isinstance(devices, int) and devices < 2 and cfg.trainer.num_nodes == 1:
        raise ConfigError(f"trainer.strategy={strategy} with trainer.devices={devices} on one node "
                          f"runs a single process; set trainer.devices ≥ 2 (or trainer=default)")
    if cfg.debug.interrupt_at_step is not None:
        _positive(cfg, "debug.interrupt_at_step")


OFFLINE_MODES = ("offline", "disabled", "dryrun")


def check_logger_login(cfg: DictConfig) -> None:
    """logger=wandb needs an API key unless W&B runs offline; without one, wandb would fail
    deep inside Lightning (or wait for a login prompt), so say how to fix it up front."""
    targets = [str(OmegaConf.select(c, "_target_", default="")) for c in (cfg.logger or {}).values()]
    if not any(t.endswith("WandbLogger") for t in targets):
        return
    if os.environ.get("WANDB_MODE", "").lower() in OFFLINE_MODES or os.environ.get("WANDB_API_KEY"):
        return
    netrc_path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0].split(":")[0]
    try:
        import netrc

        if netrc.netrc(netrc_path).authenticators(host):
            return
    except (OSError, netrc.NetrcParseError):
        pass
    raise ConfigError(f"logger=wandb: no W&B API key (WANDB_API_KEY is unset and {netrc_path} has no "
                      f"entry for {host}); run `wandb login` or set WANDB_API_KEY, or log offline with "
                      f"WANDB_MODE=offline (upload later with `wandb sync`), or use logger=csv")
