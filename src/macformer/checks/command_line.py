"""The command line's config, checked before Hydra makes the run folder.

Hydra creates the run's folder before the run's own code starts, and reports an
override it cannot apply over several lines. So the command line composes the config
once first and checks it: a bad value, or an override that needs (or must lose) the
`+` prefix, an option a config group does not have (`task=bogus`) or a sweep group
(`sweep=core`, macformer-reproduce's), is then one line and no folder is made. In a sweep
the first value of each swept setting stands for the others (each job checks its own
config again); jobs a launcher sends to other machines (SLURM) check their GPU settings
there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

NEEDS_PLUS = re.compile(r"Could not override '([^']+)'\.\s*To append to your config use \+(\S+)")
MISSING_OPTION = re.compile(r"Could not find '([^']+)'")
HAS_PLUS = re.compile(r"Could not append to config\. An item is already at '([^']+)'")
MULTIRUN_FLAGS = ("-m", "--multirun")
LOCAL_LAUNCHERS = ("basic", "joblib", "submitit_local")  # launchers whose jobs run on this machine


def command_line_problem(args: Sequence[str], compose: Callable[[list[str]], DictConfig]) -> str | None:
    """The one-line error for the config of `args` (a command line), or None when it checks
    out, or when it has flags of Hydra's own (--cfg, -cn, ...), which Hydra handles.
    `compose`: overrides → the run's config (config.compose_run; passed in, so that checks/
    stays below the config layer it checks)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from .config import check_config
    from .errors import ConfigError

    overrides = [a for a in args if a not in MULTIRUN_FLAGS]
    if any(a.startswith("-") for a in overrides):
        return None
    if message := sweep_group_problem(overrides):
        return message
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        first = [f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}" if o.is_sweep_override()
                 else o.input_line for o in parsed]
        # A sweep's kernel applies to the attentions that have one (the sweeper drops it for
        # the others), so only the jobs themselves can tell a kernel that conflicts.
        fixed = first if len(overrides) == len(args) else [
            o.input_line for o in parsed if o.key_or_group not in ("kernel", "kernel.name")]
        check_config(compose(first), fixed, on_this_machine=_runs_here(overrides))
    except ConfigError as error:
        return str(error)
    except HydraException as error:
        return plus_prefix_problem(str(error), overrides) or missing_option_problem(str(error))
    return None


def _runs_here(overrides: Sequence[str]) -> bool:
    """False when a launcher sends the jobs elsewhere (SLURM): each job checks its hardware there."""
    launchers = [o.split("=", 1)[1] for o in overrides if o.lstrip("+~").startswith("hydra/launcher=")]
    return all(name in LOCAL_LAUNCHERS for name in launchers)


def sweep_group_problem(overrides: Sequence[str]) -> str | None:
    """conf/sweep/ holds macformer-reproduce's sweep groups, which Hydra lists as a group of
    this command too; setting one here would end in Hydra's "No match in the defaults list"."""
    for override in overrides:
        key, _, name = override.lstrip("+~").partition("=")
        if key == "sweep" or key.startswith("sweep."):
            from macformer.conf_dir import CONFIG_DIR

            groups = ", ".join(sorted(p.stem for p in (CONFIG_DIR / "sweep").glob("*.yaml")))
            return (f"{override}: sweep groups ({groups}) are run by `macformer-reproduce --sweep "
                    f"{name if key == 'sweep' and name else 'NAME'}`, not by macformer-train, which trains one configuration "
                    f"(task=, attention=, kernel=; -m with comma-separated values for a Hydra multirun)")
    return None


def missing_option_problem(message: str) -> str | None:
    """Hydra's "Could not find 'task/bogus'" with its list of options, as one line."""
    if not (match := MISSING_OPTION.search(message)):
        return None
    group, name = match.group(1).rsplit("/", 1) if "/" in match.group(1) else ("", match.group(1))
    listed = message.split(f"Available options in '{group}':", 1)[1:] or [""]
    listed = listed[0].split("Config search path", 1)[0]  # Hydra's own paths follow
    options = [line.strip() for line in listed.splitlines() if line.startswith("\t")]
    known = f"; allowed values: {', '.join(options)}" if options else ""
    return f"{group}={name} is not an option of the config group {group!r}{known}"


def plus_prefix_problem(message: str, overrides: Sequence[str]) -> str | None:
    """Hydra's message about a `+` prefix as one line, or None for any other message."""
    text = " ".join(message.split())
    if match := NEEDS_PLUS.search(text):
        return (f"{match.group(1)} is not in the composed config, so Hydra needs the + prefix to "
                f"add it: +{match.group(2)} (or check the key's spelling)")
    if match := HAS_PLUS.search(text):
        key = match.group(1)
        written = next((o for o in overrides if o.lstrip("+").startswith(key + "=")), key)
        return f"{key} is already in the config: set it without the + prefix: {written.lstrip('+')}"
    return None
