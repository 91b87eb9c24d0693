"""The run config: conf/train.yaml composed as `macformer-train` composes it, and the
resolvers its files use.

A run writes everything into Hydra's output directory (`hydra.run.dir`; in a multirun
`hydra.sweep.dir/hydra.sweep.subdir`), which the configs read as `paths.output_dir`.
`compose_run` gives a script (the reproduce driver, the tests) the same config and the
same output directory as the command line, without `@hydra.main`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from macformer.conf_dir import CONFIG_DIR  # re-exported: callers of config.CONFIG_DIR keep working

__all__ = ["CONFIG_DIR", "compose_run", "output_dir", "register_resolvers", "run_label", "run_suffix",
           "run_tags"]


def run_label(attention, protocol: str = "lra", pretrain: str | None = None) -> str:
    """The attention's label (macformer.attention.variant_label), then `-<protocol>` unless
    it is the LRA standard, then `-spt-<objective>` for a self-pretrained run:
    `rmfa-inverse-causal`, `softmax-authors`, `rmfa-exp-causal-spt-lm`."""
    from macformer.attention import variant_label

    label = variant_label(attention["name"], attention.get("options") or {})
    label = label if protocol in (None, "lra") else f"{label}-{protocol}"
    return label if pretrain in (None, "none") else f"{label}-spt-{pretrain}"


def run_suffix(tag) -> str:
    """`-<tag>`, or "" for none. The tag becomes part of a folder name before any check of the
    config runs (Hydra makes the run folder first), so a tag that could leave it stops here."""
    from macformer.checks.rules import SafeName, problem

    if tag in (None, ""):
        return ""
    message = problem("run.tag", tag, SafeName(null=True))
    if message:
        raise ValueError(message)
    return f"-{tag}"


def run_tags(task: str, label: str, attention, protocol: str, seed: int, profile: str,
             sweep_id: str | None = None) -> list[str]:
    """`key:value` tags of a W&B run, one per label of the tables (filterable on a
    dashboard): task, row, form (causal / non-causal), kernel, seed, sweep, protocol, profile."""
    from macformer.attention import variant_facts

    facts = variant_facts(attention["name"], attention.get("options") or {})
    form = None if facts["causal"] is None else ("causal" if facts["causal"] else "non-causal")
    tags = {"task": task, "row": label, "form": form, "kernel": facts["kernel"], "seed": seed,
            "sweep": sweep_id, "protocol": protocol, "profile": profile}
    return [f"{key}:{value}"[:64] for key, value in tags.items() if value is not None]


def register_resolvers() -> None:
    for name, fn in (("run_label", run_label), ("run_suffix", run_suffix), ("run_tags", run_tags)):
        OmegaConf.register_new_resolver(name, fn, replace=True)


register_resolvers()


def compose_run(overrides: Sequence[str] = (), config_dir: str | os.PathLike | None = None,
                configure_logging: bool = False) -> DictConfig:
    """conf/train.yaml with `overrides` (Hydra's own, e.g. `hydra.run.dir=X`, included), with
    Hydra's runtime set as `@hydra.main` sets it, so `paths.output_dir` is the run's folder.
    `configure_logging`: apply the config's job logging (console), as the command line does."""
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log

    with initialize_config_dir(str(config_dir or CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    with read_write(cfg.hydra.runtime), open_dict(cfg.hydra.runtime):
        cfg.hydra.runtime.output_dir = os.path.abspath(str(_run_dir(cfg)))
    HydraConfig.instance().set_config(cfg)
    if configure_logging:
        configure_log(cfg.hydra.job_logging, cfg.hydra.verbose)
    with read_write(cfg), open_dict(cfg):
        del cfg["hydra"]
    return cfg


def _run_dir(cfg: DictConfig) -> str:
    """hydra.run.dir; a setting that makes it unsafe (run.tag) is a ConfigError, not a trace."""
    from omegaconf.errors import InterpolationResolutionError

    from macformer.checks.errors import ConfigError

    try:
        return str(cfg.hydra.run.dir)
    except InterpolationResolutionError as error:  # "ValueError raised while resolving ...: <why>"
        raise ConfigError(str(error).splitlines()[0].split("resolving interpolation: ", 1)[-1]) from None


def output_dir(cfg: DictConfig) -> Path:
    """The run's folder: Hydra's output directory."""
    return Path(cfg.paths.output_dir)
