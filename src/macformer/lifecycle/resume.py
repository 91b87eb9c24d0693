"""Which runs to skip, resume or start: the run folder is a function of the config.

The folder is Hydra's output directory, by default
`<results>/runs/<profile>/<task>/<label>[-<tag>]/seed<seed>` (conf/train.yaml), so running
the same configuration again finds its earlier run there (macformer.lifecycle.record.earlier_run):
- a completed summary → skip (unless run.force=true, which starts over);
- `checkpoints/last.ckpt` (a stopped, interrupted or failed run) → resume from it (unless
  run.resume=false); one that cannot be read is moved aside to last.ckpt.corrupt and the
  run resumes from best.ckpt, or starts afresh when there is none. Checkpoints are read
  with `weights_only=True`: a run folder may come from someone else, and a pickle that
  names anything but tensors and plain data is refused (and moved aside), never run;
- otherwise → start.
`config_hash` covers every setting that changes the result. A folder holding a run of
a DIFFERENT configuration (e.g. another learning rate) is never resumed or skipped:
the run stops with an error asking for run.tag (a separate folder) or run.force.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from macformer import atomic
from macformer.checks import ConfigError

from .record import DONE, IDENTITY_NAME, OTHER_SETTINGS, SUMMARY_NAME, earlier_run, percent

# Settings that do not change what is computed.
NOT_HASHED = {
    "paths", "logger", "callbacks", "debug", "hydra", "kernel",  # kernel: via attention.options
    "reproduce",  # the driver's part of a profile (its groups, seeds, ...), never read by a run
    "run.force", "run.resume", "run.sweep_id", "run.test", "run.relative_dir",
    "data.num_workers", "data.data_dir", "generate",
    "trainer.enable_progress_bar", "trainer.log_every_n_steps", "trainer.default_root_dir",
    "trainer.enable_model_summary", "trainer.num_sanity_val_steps",
    "trainer.max_time",  # a time budget per attempt: the re-run continues the same run
}


def resolved_settings(cfg: DictConfig) -> dict:
    """The config as plain data, interpolations resolved, without Hydra's own node."""
    return {str(key): OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key])
            else cfg[key] for key in cfg if key != "hydra"}


def hashed_settings(cfg: DictConfig) -> dict:
    settings = resolved_settings(cfg)
    # No pretraining adds nothing to the hash: runs from before the pretrain group keep theirs.
    if (settings.get("pretrain") or {}).get("objective", "none") == "none":
        settings.pop("pretrain", None)
    for dotted in NOT_HASHED:
        node, *rest = dotted.split(".")
        if not rest:
            settings.pop(node, None)
        elif isinstance(settings.get(node), dict):
            settings[node].pop(rest[0], None)
    return settings


def config_hash(cfg: DictConfig) -> str:
    blob = json.dumps(hashed_settings(cfg), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# What Lightning needs to resume a fit from a checkpoint.
CHECKPOINT_KEYS = ("global_step", "state_dict", "optimizer_states", "loops")


@dataclass(frozen=True)
class Plan:
    action: str  # "start", "resume" or "skip"
    checkpoint: Path | None = None
    previous: dict | None = None
    message: str = ""
    set_aside: bool = False  # a checkpoint could not be read and was moved aside


def plan_run(run_dir: Path, cfg_hash: str, resume: bool = True, force: bool = False) -> Plan:
    run_dir = Path(run_dir)
    last = run_dir / "checkpoints" / "last.ckpt"
    held, summary, earlier_hash = earlier_run(run_dir, cfg_hash)
    if force:
        clear_run(run_dir)
        return Plan("start", message=f"run.force=true: starting {run_dir} afresh")
    if held == OTHER_SETTINGS:
        raise ConfigError(
            f"{run_dir} holds a run of a different configuration (config_hash {earlier_hash}, this one "
            f"{cfg_hash}). Set run.tag=NAME to keep both (another folder), or run.force=true to replace it."
        )
    if held == DONE:
        return _skip_plan(run_dir, summary)
    if last.exists() and resume:
        return _resume_plan(run_dir, last, summary)
    if last.exists():
        clear_run(run_dir)
        return Plan("start", message=f"run.resume=false: starting {run_dir} afresh")
    return Plan("start")


def _skip_plan(run_dir: Path, summary: dict) -> Plan:
    return Plan("skip", previous=summary,
                message=f"{run_dir} already completed (test accuracy {percent(summary.get('test_accuracy'))}); "
                        f"skipping it (run.force=true re-runs it)")


def completed_plan(run_dir: Path, cfg_hash: str) -> Plan | None:
    """The skip of a completed run of `cfg_hash`, else None. Reads only: a read-only folder
    of completed runs can be run again (no lock is needed to find a run completed)."""
    held, summary, _ = earlier_run(run_dir, cfg_hash)
    return _skip_plan(Path(run_dir), summary) if held == DONE else None


def _readable_step(path: Path) -> tuple[int | None, str]:
    """(global step, "") of a checkpoint that loads as tensors and plain data, else (None, why not)."""
    import pickle

    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        why = _not_a_checkpoint(checkpoint, torch.Tensor)
        return (None, f"not a training checkpoint: {why}") if why else (checkpoint["global_step"], "")
    except pickle.UnpicklingError as error:  # torch's message: which global it refused, amid advice
        refused = [line for line in str(error).splitlines() if "GLOBAL" in line or "global" in line]
        return None, f"refused to unpickle it ({(refused or ['not tensors and plain data'])[0].strip()})"
    except Exception as error:  # noqa: BLE001  (truncated zip, missing key, wrong type: all unusable)
        return None, f"{type(error).__name__}: {error}".splitlines()[0]


def _not_a_checkpoint(checkpoint, tensor_type) -> str | None:
    """Why a loaded object is not a Lightning training checkpoint, or None."""
    if not isinstance(checkpoint, dict):
        return f"a {type(checkpoint).__name__}"
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        return f"no {missing[0]!r}"
    step, weights = checkpoint["global_step"], checkpoint["state_dict"]
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"global_step {step!r}"
    if not isinstance(weights, dict) or not weights or not all(
            isinstance(v, tensor_type) for v in weights.values()):
        return "its state_dict holds no weights"
    return None


def _resume_plan(run_dir: Path, last: Path, summary: dict | None) -> Plan:
    """Resume from last.ckpt; when it cannot be read (a write cut short by a kill or a full
    disk), move it aside and resume from best.ckpt, or start afresh."""
    step, why = _readable_step(last)
    if step is not None:
        return Plan("resume", checkpoint=last, previous=summary, message=f"resuming {run_dir} from {last}")
    aside = last.with_name(last.name + ".corrupt")
    last.replace(aside)
    damage = f"{last} cannot be read ({why}); moved it to {aside}"
    best = last.with_name("best.ckpt")
    best_step, best_why = _readable_step(best) if best.exists() else (None, "")
    if best_step is not None:
        return Plan("resume", checkpoint=best, previous=summary, set_aside=True,
                    message=f"{damage}; resuming from {best} (step {best_step}) instead")
    if best.exists():  # kept for inspection, like last.ckpt
        best.replace(best.with_name(best.name + ".corrupt"))
        damage += f"; {best.name} cannot be read either ({best_why}): moved it to {best.name}.corrupt"
    else:
        damage += "; no best.ckpt either"
    clear_run(run_dir)
    return Plan("start", set_aside=True, message=f"{damage}; starting {run_dir} afresh")


def clear_run(run_dir: Path) -> None:
    """Remove what a previous run left that would be mistaken for this one's (checkpoints moved
    aside as *.corrupt stay, for inspection)."""
    for path in (Path(run_dir) / "checkpoints").glob("*"):
        if not path.name.endswith(".corrupt"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in (SUMMARY_NAME, IDENTITY_NAME):
        (Path(run_dir) / name).unlink(missing_ok=True)
    pretrain = Path(run_dir) / "pretrain"  # the self-pretraining stage's folder (training/pretrain_stage.py)
    if pretrain.is_symlink() or pretrain.is_file():
        pretrain.unlink()  # a planted link is removed, never followed
    elif pretrain.is_dir():
        shutil.rmtree(pretrain)


def write_identity(run_dir: Path, cfg_hash: str, settings: dict) -> None:
    atomic.write_text(Path(run_dir) / IDENTITY_NAME,
                      json.dumps({"config_hash": cfg_hash, "settings": settings}, indent=2, default=str))
