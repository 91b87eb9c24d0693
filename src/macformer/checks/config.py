"""check_config: every setting of a composed run config, before anything is built.

First each key against its rule (settings.py, attention.py), then the settings that
must agree with each other. The first problem found is raised as one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .attention import attention_problem
from .device import check_device
from .errors import ConfigError
from .kernel_scaling import check_kernel_scaling
from .path_names import check_path_names
from .rules import OneOf, is_number, problem
from .settings import DERIVED, FIXED_GROUPS, setting_rules

_ABSENT = object()


def value(cfg: DictConfig, key: str):
    """The resolved value at `key` (plain data), or _ABSENT; a broken interpolation is a ConfigError."""
    try:
        found = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=True)
    except OmegaConfBaseException as error:
        raise ConfigError(f"{key} cannot be resolved: {str(error).splitlines()[0]}") from None
    return OmegaConf.to_container(found, resolve=True) if OmegaConf.is_config(found) else found


def check_config(cfg: DictConfig, overrides: Sequence[str] = (), *, on_this_machine: bool = True) -> None:
    """Raise ConfigError for the first bad setting. `overrides`: the command line's key=value list.
    `on_this_machine=False` for a run that will run elsewhere (a cluster node): the settings
    that need this machine's hardware (a GPU, Triton: device.py) are left to the run itself."""
    _check_known_keys(cfg)
    for key, rule in setting_rules().items():
        found = value(cfg, key)
        if found is not _ABSENT and (message := problem(key, found, rule)):
            raise ConfigError(message)
    _check_attention(cfg, overrides)
    _check_schedule(cfg)
    _check_pretrain(cfg)
    _check_data(cfg)
    _check_trainer(cfg)
    _check_paths(cfg)
    if on_this_machine:
        options = value(cfg, "attention.options")
        head_dim = value(cfg, "model.encoder.head_dim")
        check_device(str(cfg.trainer.accelerator), str(cfg.attention.name),
                     options if isinstance(options, dict) else {},
                     head_dim if isinstance(head_dim, int) else None)


def _check_known_keys(cfg: DictConfig) -> None:
    rules = setting_rules()
    for group in FIXED_GROUPS:
        node = cfg.get(group)
        if not OmegaConf.is_dict(node):
            continue
        for key in _leaves(node, group):
            if key not in rules and key not in DERIVED and not any(
                    key.startswith(known + ".") for known in rules):
                known = sorted(k.split(".", 1)[1] for k in rules if k.startswith(group + "."))
                raise ConfigError(f"{key} is not a setting of {group}; its settings: {', '.join(known)}")


def _leaves(node, prefix: str):
    """Dotted keys below `node`; a mapping that is one setting (a rule's key) is a leaf."""
    rules = setting_rules()
    for key in node:
        dotted, child = f"{prefix}.{key}", node._get_node(key)
        if OmegaConf.is_dict(child) and not child._is_interpolation() and dotted not in rules:
            yield from _leaves(child, dotted)
        else:
            yield dotted


def _check_attention(cfg: DictConfig, overrides: Sequence[str]) -> None:
    from macformer.attention import attentions, has_kernel

    name = value(cfg, "attention.name")
    if message := problem("attention.name", name, OneOf(attentions())):
        raise ConfigError(message)
    options = value(cfg, "attention.options")
    options = {} if options in (_ABSENT, None) else options
    if not isinstance(options, dict):
        raise ConfigError(f"attention.options must be a mapping of option names to values, got {options!r}")
    composed = set(OmegaConf.load(_attention_file(name)).get("options") or {}) if _attention_file(name) else set()
    if message := attention_problem(name, options, composed):
        raise ConfigError(message)
    check_kernel_scaling(name, options)
    if not has_kernel(name):
        explicit = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in ("kernel", "kernel.name")]
        if explicit:
            raise ConfigError(f"{explicit[0]!r} conflicts with attention={name}: the kernel group applies "
                              f"only to attentions with a kernel: "
                              f"{', '.join(a for a in attentions() if has_kernel(a))}")


def _check_paths(cfg: DictConfig) -> None:
    """The folders a run makes or reads, their names within the file system's limits."""
    paths = {key: found for key in ("paths.results_dir", "paths.data_dir")
             if isinstance(found := value(cfg, key), str)}
    try:  # the run's folder (Hydra's output directory), where the config knows it
        run_dir = OmegaConf.select(cfg, "paths.output_dir")
    except (OmegaConfBaseException, ValueError):
        run_dir = None
    if isinstance(run_dir, str):
        paths["the run folder (hydra.run.dir)"] = run_dir
    check_path_names(paths)


def _attention_file(name: str):
    from macformer.conf_dir import CONFIG_DIR

    path = CONFIG_DIR / "attention" / f"{name}.yaml"
    return path if path.is_file() else None


def _check_schedule(cfg: DictConfig) -> None:
    warmup, steps = cfg.task.warmup_steps, cfg.task.max_steps
    if not warmup < steps:
        raise ConfigError(f"task.warmup_steps={warmup!r} must be an integer in [0, task.max_steps={steps})")
    if cfg.task.eval_every > steps:
        raise ConfigError(f"task.eval_every={cfg.task.eval_every} exceeds task.max_steps={steps}: "
                          f"the run would never validate, so it would have no best checkpoint")
    betas = value(cfg, "lit_module.betas")
    if betas is not _ABSENT and not (isinstance(betas, list) and len(betas) == 2 and all(
            is_number(b) and 0 <= b < 1 for b in betas)):
        raise ConfigError(f"lit_module.betas must be two numbers in [0, 1), got {betas!r}")


def _check_pretrain(cfg: DictConfig) -> None:
    """pretrain=lm only for a causal row (a bidirectional one sees the token it predicts);
    the pretraining's own schedule as the task's is checked."""
    pretrain = cfg.get("pretrain")
    if pretrain is None or pretrain.objective == "none":
        return
    if pretrain.objective == "lm":
        from macformer.attention import variant_facts, variant_label

        options = dict(cfg.attention.options or {})
        if variant_facts(cfg.attention.name, options)["causal"] is not True:
            raise ConfigError(f"pretrain=lm predicts each next token, so it needs a causal attention; "
                              f"{variant_label(cfg.attention.name, options)} attends both ways and would see "
                              "the token it predicts: use pretrain=mlm (or attention.options.causal=true "
                              "where the attention has that option)")
    if not pretrain.warmup_steps < pretrain.steps:
        raise ConfigError(f"pretrain.warmup_steps={pretrain.warmup_steps!r} must be an integer in "
                          f"[0, pretrain.steps={pretrain.steps})")
    if pretrain.eval_every > pretrain.steps:
        raise ConfigError(f"pretrain.eval_every={pretrain.eval_every} exceeds pretrain.steps={pretrain.steps}")


def _check_data(cfg: DictConfig) -> None:
    from macformer.data.tasks import task_spec
    from macformer.data.variants import datasets_of

    if message := problem("data.dataset", cfg.data.dataset, OneOf(tuple(datasets_of(cfg.task.name)))):
        raise ConfigError(message)
    spec = task_spec(cfg.task.name)
    if cfg.data.max_length is not None and cfg.data.max_length > spec.seq_len:
        raise ConfigError(f"data.max_length={cfg.data.max_length} exceeds the length of task "
                          f"{spec.name} ({spec.seq_len}); allowed: 1..{spec.seq_len} or null")


def _check_trainer(cfg: DictConfig) -> None:
    trainer = cfg.trainer
    if trainer.max_steps != cfg.task.max_steps:
        raise ConfigError(f"trainer.max_steps={trainer.max_steps} differs from task.max_steps="
                          f"{cfg.task.max_steps}, which the learning-rate schedule follows; set task.max_steps")
    if trainer.accelerator == "cpu" and trainer.precision in ("16-mixed",):
        raise ConfigError("trainer.precision=16-mixed conflicts with trainer.accelerator=cpu: mixed "
                          "precision is for GPUs; allowed on CPU: 32-true, bf16-mixed, auto")
    strategy, devices = str(trainer.strategy), trainer.devices
    if strategy.startswith("ddp") and devices < 2 and trainer.num_nodes == 1:
        raise ConfigError(f"trainer.strategy={strategy} with trainer.devices={devices} on one node "
                          f"runs a single process; set trainer.devices ≥ 2 (or trainer=default)")
