"""Train one configuration: `macformer-train task=listops attention=rmfa kernel=inverse`
(or `python -m macformer.train ...`).

A straight line: check the config → skip / resume / start (lifecycle/resume.py) → data
(generated when missing and generable) → model, sized by the data (length, vocabulary,
classes, pairing) → Lightning module → fit → test the best-validation checkpoint →
summary.json in the run folder (Hydra's output directory). Sweeps: add `-m` and
comma-separated values. In Python: `macformer.train.run(["task=listops", ...])`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from macformer.allocator import keep_freed_memory
from macformer.attention.rmf.paths import paths_taken
from macformer.checks import ConfigError, check_config, check_logger_login
from macformer.config import CONFIG_DIR, compose_run, output_dir
from macformer.lifecycle.lock import LOCKED_EXIT, RunLocked
from macformer.lifecycle.os_error import describe_os_error
from macformer.lifecycle.outcome import RunError, RunInterrupted, SignalRecorder, describe_failure
from macformer.lifecycle.environment import describe as describe_environment
from macformer.lifecycle.record import COMPLETED, INTERRUPTED, STOPPED, file_sha256, new_record, run_facts
from macformer.lifecycle.resume import config_hash, resolved_settings
from macformer.lifecycle.session import close_run, start_run
from macformer.training import wandb_run

log = logging.getLogger("macformer.train")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _uses_gpu(cfg: DictConfig) -> bool:
    accelerator = cfg.trainer.accelerator
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def _device(cfg: DictConfig, world_size: int) -> str:
    if _uses_gpu(cfg):
        name = torch.cuda.get_device_name(0)
    else:
        name = f"cpu, {torch.get_num_threads()} threads"
    return name if world_size == 1 else f"{name} × {world_size} processes"


def _trainer_settings(cfg: DictConfig) -> DictConfig:
    """The trainer config with `auto` precision / determinism made concrete."""
    settings = OmegaConf.to_container(cfg.trainer, resolve=True)
    gpu = _uses_gpu(cfg)
    if settings["precision"] == "auto":
        settings["precision"] = "16-mixed" if gpu else "32-true"
    if settings["deterministic"] == "auto":
        settings["deterministic"] = not gpu
    return OmegaConf.create(settings)


def _is_launched_worker() -> bool:
    """True in the extra processes Lightning's DDP launcher starts (rank > 0), and in the
    tasks after the first of a SLURM job with a task per device (srun starts those)."""
    slurm_rank = int(os.environ.get("SLURM_PROCID", "0")) if int(os.environ.get("SLURM_NTASKS", "1")) > 1 else 0
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0 or slurm_rank > 0


def train(cfg: DictConfig, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Run one configuration in this process and return its summary (also written to summary.json)."""
    keep_freed_memory()  # see macformer/allocator.py: page faults otherwise dominate CPU runs
    start = _now()
    check_config(cfg, overrides)
    check_logger_login(cfg)
    run_dir = output_dir(cfg)
    cfg_hash = config_hash(cfg)
    worker = _is_launched_worker()
    lock = run_log = None
    if worker:
        last = run_dir / "checkpoints" / "last.ckpt"
        checkpoint = last if (cfg.run.resume and not cfg.run.force and last.exists()) else None
    else:  # skip (writing nothing), or hold the folder's lock: lifecycle/session.py
        plan, lock, run_log = start_run(cfg, run_dir, cfg_hash, overrides)
        if plan.action == "skip":
            return plan.previous
        checkpoint = plan.checkpoint

    summary = new_record(run_facts(cfg), config_hash=cfg_hash, git_commit=_git_commit(), start_time=start,
                         run_dir=str(run_dir), resumed_from=str(checkpoint) if checkpoint else None)
    signals = SignalRecorder()
    try:
        with signals:
            _fit_and_test(cfg, checkpoint, summary)  # sets status: completed or stopped
    except BaseException as error:  # noqa: B036  (Ctrl-C, SIGTERM and failures all leave a summary)
        summary.update(describe_failure(error, signals.received, summary["steps"], run_dir))
        if summary["status"] == INTERRUPTED:
            raise RunInterrupted(summary["error"], summary["stop_reason"]) from error
        raise
    finally:
        summary["end_time"] = _now()
        try:
            wandb_run.finish(summary)
        finally:
            if not worker:
                close_run(run_dir, summary, run_log, lock)  # summary.json, then the log and lock let go
    return summary


def _fit_and_test(cfg: DictConfig, checkpoint: Path | None, summary: dict):
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    from macformer.training.callbacks.attempt_timer import AttemptTimer
    from macformer.training.callbacks.interrupt_at_step import InterruptAtStep
    from macformer.training.callbacks.save_on_stop import SaveOnStop
    from macformer.training.callbacks.training_health import TrainingHealth
    from macformer.training.checkpoint_io import RunFolderCheckpointIO
    from macformer.training.resumable_loader import ResumableDataModule
    from macformer.training.stop_reason import MAX_TIME, SHOULD_STOP, stop_reason

    pl.seed_everything(cfg.seed, workers=True)
    generated = _generate_missing_data(cfg)
    if generated:
        summary["data_generated"] = generated
    data = instantiate(cfg.data)
    summary.update(data.check_splits())  # an empty split fails here (and a heavy cut warns), before training
    model = build_model(cfg, data)
    module = instantiate(cfg.lit_module)(model=model, num_classes=data.num_classes)
    datamodule = ResumableDataModule(data, seed=cfg.seed)
    summary["params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    summary["seq_len"] = model.encoder.max_length

    loggers = [instantiate(c) for c in (cfg.logger or {}).values()]
    callbacks = [instantiate(c) for c in (cfg.callbacks or {}).values()]
    if not loggers:  # the learning-rate monitor has nowhere to write
        callbacks = [c for c in callbacks if not isinstance(c, pl.callbacks.LearningRateMonitor)]
    if cfg.debug.interrupt_at_step is not None:
        callbacks.append(InterruptAtStep(cfg.debug.interrupt_at_step, cfg.debug.interrupt_signal))
    health = TrainingHealth()
    callbacks += [health, SaveOnStop(output_dir(cfg) / "checkpoints" / "last.ckpt")]
    settings = _trainer_settings(cfg)
    max_time = settings.pop("max_time", None)
    if max_time is not None:  # per attempt (see training/stop_reason.py)
        callbacks.append(AttemptTimer(duration=max_time, interval="step"))
    trainer = instantiate(settings, callbacks=callbacks, logger=loggers or False,
                          plugins=[RunFolderCheckpointIO()])  # checkpoints never through TMPDIR or a link
    summary["device"] = _device(cfg, trainer.world_size)
    summary["environment"] = describe_environment()
    for logger in loggers:
        if wandb_run.is_wandb(logger):
            wandb_run.start(logger, resolved_settings(cfg), run_facts(cfg), summary["environment"])
        else:
            logger.log_hyperparams(resolved_settings(cfg))

    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None,
                    weights_only=True)  # a received run folder's checkpoint never runs code
    finally:
        _collect(trainer, summary)
        summary["attention_path"] = paths_taken(model)
        summary["skipped_steps"] = health.skips.skipped
    if trainer.interrupted:
        raise KeyboardInterrupt("training was interrupted")
    summary["stop_reason"] = reason = stop_reason(trainer, summary["steps"])
    if reason in (MAX_TIME, SHOULD_STOP):  # not done: no test; a re-run continues from last.ckpt
        cause = f"trainer.max_time={max_time}" if reason == MAX_TIME else "a callback"
        summary["status"] = STOPPED
        summary["error"] = (f"stopped by {cause} at step {summary['steps']} of {cfg.task.max_steps}; "
                            f"re-run the same command to continue")
        return trainer
    if cfg.run.test:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        results = trainer.test(module, datamodule=datamodule, ckpt_path=best or None, verbose=False,
                               weights_only=True)
        if results:
            summary["test_accuracy"] = float(results[0]["test/accuracy"])
        if best:
            summary["best_checkpoint"] = os.path.relpath(best, output_dir(cfg))
            summary["best_checkpoint_sha256"] = file_sha256(best)
    summary["status"] = COMPLETED
    return trainer


def build_model(cfg: DictConfig, data):
    """The model of `cfg.model`, sized by the data module `data`: its padded length,
    vocabulary, classes and pairing (as nanoGPT takes vocab_size from its data)."""
    from hydra.utils import instantiate

    return instantiate(cfg.model, num_classes=data.num_classes, dual=data.is_pair,
                       encoder={"vocab_size": data.vocab_size, "max_length": data.seq_len})


def _generate_missing_data(cfg: DictConfig) -> str | None:
    """ListOps / Pathfinder / Path-X at the profile's sizes (`generate.*`) when missing."""
    from macformer.data.generate import GENERABLE, ensure_generated
    from macformer.data.random_inputs import TARGET as RANDOM_INPUTS

    task = cfg.task.name
    if task not in GENERABLE or cfg.data.get("_target_") == RANDOM_INPUTS:
        return None  # the data module reports missing files itself (random inputs need none)
    sizes = dict(cfg.generate.listops if task == "listops" else cfg.generate.pathfinder)
    return ensure_generated(task, cfg.paths.data_dir, {k: int(v) for k, v in sizes.items()},
                            int(cfg.generate.seed), cfg.data.dataset)


def _collect(trainer, summary: dict) -> None:
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1}
    summary["steps"] = max(int(trainer.global_step), int(metrics.get("perf/global_step", 0)))
    if "val/best_accuracy" in metrics:
        summary["val_accuracy"] = metrics["val/best_accuracy"]
        summary["best_step"] = int(metrics["val/best_step"])
    for key in ("train_seconds", "train_tokens_per_second", "train_steps_per_second", "peak_memory_mb"):
        if f"perf/{key}" in metrics:
            summary[key] = metrics[f"perf/{key}"]
    if "perf/throughput_steps" in metrics:
        summary["throughput_steps"] = int(metrics["perf/throughput_steps"])


def run(overrides: list[str] | tuple[str, ...] = (), config_dir: str | os.PathLike | None = None) -> dict:
    """Compose conf/train.yaml with `overrides` and train it in this process; returns the summary.

    For scripts (e.g. the reproduce driver): `run(["task=listops", "attention=rmfa", "profile=cpu"])`.
    """
    # Log to the console as the command line does, unless the caller set up logging.
    cfg = compose_run(overrides, config_dir or CONFIG_DIR, configure_logging=not logging.getLogger().handlers)
    return train(cfg, overrides)


def main() -> None:
    """The command line: its config is checked before Hydra makes the run folder, and a
    bad value or an override that needs (or must lose) the + prefix is one line."""
    from macformer.checks.command_line import command_line_problem

    problem = command_line_problem(sys.argv[1:])
    if problem:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1)
    hydra_main()


# An absolute path: the console script and `python -m` find conf/ alike.
@hydra.main(config_path=str(CONFIG_DIR), config_name="train", version_base="1.3")
def hydra_main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from macformer.data.tasks import DataError

    try:
        summary = train(cfg, list(HydraConfig.get().overrides.task))
    except (ConfigError, RunError, DataError, OSError) as error:  # each names its file and what to do
        message = describe_os_error(error, output_dir(cfg)) if isinstance(error, OSError) else str(error)
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            log.error(message)
            raise  # the launcher records this job's failure and runs the others
        print(f"error: {message}", file=sys.stderr, flush=True)  # one line, no traceback
        raise SystemExit(LOCKED_EXIT if isinstance(error, RunLocked) else 1) from None
    return summary.get("val_accuracy")


if __name__ == "__main__":
    main()
