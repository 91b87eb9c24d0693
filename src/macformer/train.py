"""Train one configuration: `macformer-train task=listops attention=rmfa kernel=inverse`
(or `python -m macformer.train ...`).

A straight line: check the config → the run's lifecycle (lifecycle/run_lifecycle.py: skip,
resume or start; summary.json however it ends) → data (generated when missing and
generable) → model, sized by the data (length, vocabulary, classes, pairing) → Lightning
module → fit → test the best-validation checkpoint. How the run ended is
lifecycle/outcome.py's to say. Sweeps: add `-m` and comma-separated values. In Python:
`macformer.train.run(["task=listops", ...])`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import NamedTuple

import hydra
from omegaconf import DictConfig

from macformer.allocator import keep_freed_memory
from macformer.attention.rmf.paths import paths_taken
from macformer.checks import check_config, check_logger_login
from macformer.checks.errors import ConfigError
from macformer.config import CONFIG_DIR, compose_run, output_dir
from macformer.lifecycle.environment import describe as describe_environment
from macformer.lifecycle.lock import LOCKED_EXIT, RunLocked
from macformer.lifecycle.os_error import describe_os_error
from macformer.lifecycle.outcome import RunError, describe_end
from macformer.lifecycle.record import COMPLETED, file_sha256, pretrain_objective, run_facts
from macformer.lifecycle.resume import resolved_settings
from macformer.lifecycle.run_lifecycle import RunLifecycle, now
from macformer.training import wandb_run
from macformer.training.trainer_setup import device_name, trainer_settings

log = logging.getLogger("macformer.train")
_trainer_settings = trainer_settings  # the name tests/protocol imports


class Fitted(NamedTuple):
    """What a fit hands on to the test and to the decision of how the run ended."""

    trainer: object
    module: object
    datamodule: object
    reason: str  # why fit returned (training/stop_reason.py)
    max_time: object  # this attempt's trainer.max_time, None when unlimited


def train(cfg: DictConfig, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Run one configuration in this process and return its summary (also written to summary.json)."""
    keep_freed_memory()  # see macformer/allocator.py: page faults otherwise dominate CPU runs
    started = now()
    check_config(cfg, overrides)
    check_logger_login(cfg)
    # skip, resume or start (holding the folder's lock); W&B is finished with the record at the end
    run = RunLifecycle(cfg, overrides, started, finish_logger=wandb_run.finish)
    if run.skipped:
        return run.previous  # the completed run's summary; nothing was written
    with run as summary:  # however the body ends, the summary says how, and the lock is let go
        fitted = _fit(cfg, run.checkpoint, summary)
        ending = describe_end(fitted.reason, summary["steps"], cfg.task.max_steps, fitted.max_time)
        if ending["status"] == COMPLETED and cfg.run.test:  # a stopped run is continued, not tested
            from macformer.training.callbacks.attention_diagnostics import probe_validation_examples

            _test(cfg, fitted, summary)
            diagnostics = summary["attention_diagnostics"] = summary.get("attention_diagnostics") or {}
            diagnostics["after_training"] = probe_validation_examples(fitted.module.model, fitted.datamodule.inner)
        summary.update(ending)
    return summary


def _fit(cfg: DictConfig, checkpoint: Path | None, summary: dict) -> Fitted:
    """The data (generated when missing), the model sized by it, the Trainer, and trainer.fit
    (from `checkpoint` when resuming); what each says goes into `summary`."""
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    from macformer.data.generate import generate_missing
    from macformer.training.callbacks.always_on import run_callbacks
    from macformer.training.callbacks.attention_diagnostics import probe_validation_examples
    from macformer.training.checkpoint_io import RunFolderCheckpointIO
    from macformer.training.collect import collect
    from macformer.training.pretrain_stage import pretrain_encoder, time_share
    from macformer.training.resumable_loader import ResumableDataModule
    from macformer.training.stop_reason import stop_reason

    pl.seed_everything(cfg.seed, workers=True)
    generated = generate_missing(cfg)
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
    settings = trainer_settings(cfg)
    max_time = settings.pop("max_time", None)  # per attempt (training/callbacks/attempt_timer.py)
    callbacks, health = run_callbacks(cfg, output_dir(cfg), max_time, logged=bool(loggers))
    trainer = instantiate(settings, callbacks=callbacks, logger=loggers or False,
                          plugins=[RunFolderCheckpointIO()])  # checkpoints never through TMPDIR or a link
    summary["device"] = device_name(cfg, trainer.world_size)
    summary["environment"] = describe_environment()
    for logger in loggers:
        if wandb_run.is_wandb(logger):
            wandb_run.start(logger, resolved_settings(cfg), run_facts(cfg), summary["environment"])
        else:
            logger.log_hyperparams(resolved_settings(cfg))

    if pretrain_objective(cfg):  # self-pretraining first (resumed, or found done)
        pretraining = pretrain_encoder(cfg, data, model, output_dir(cfg), loggers, checkpoint,
                                       probe=lambda: probe_validation_examples(model, data))
        summary["attention_diagnostics"] = {"after_pretraining": pretraining.pop("attention_after_pretraining", None)}
        summary["pretraining"] = pretraining
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(checkpoint) if checkpoint else None,
                    weights_only=True)  # a received run folder's checkpoint never runs code
    finally:
        collect(trainer, summary)
        if summary.get("pretraining"):
            summary["pretraining"]["time_share"] = time_share(summary["pretraining"], summary.get("train_seconds"))
        summary["attention_path"] = paths_taken(model)
        summary["skipped_steps"] = health.skips.skipped
    if trainer.interrupted:
        raise KeyboardInterrupt("training was interrupted")
    return Fitted(trainer, module, datamodule, stop_reason(trainer, summary["steps"]), max_time)


def _test(cfg: DictConfig, fitted: Fitted, summary: dict) -> None:
    """Test the best-validation checkpoint (the last weights when none was kept)."""
    trainer = fitted.trainer
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    results = trainer.test(fitted.module, datamodule=fitted.datamodule, ckpt_path=best or None, verbose=False,
                           weights_only=True)
    if results:
        summary["test_accuracy"] = float(results[0]["test/accuracy"])
    if best:
        summary["best_checkpoint"] = os.path.relpath(best, output_dir(cfg))
        summary["best_checkpoint_sha256"] = file_sha256(best)


def build_model(cfg: DictConfig, data):
    """The model of `cfg.model`, sized by the data module `data`: its padded length,
    vocabulary (+ the mask token of pretrain=mlm), classes and pairing (as nanoGPT takes
    vocab_size from its data)."""
    from hydra.utils import instantiate

    from macformer.training.pretrain_stage import mask_rows

    return instantiate(cfg.model, num_classes=data.num_classes, dual=data.is_pair,
                       encoder={"vocab_size": data.vocab_size + mask_rows(cfg), "max_length": data.seq_len})


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

    problem = command_line_problem(sys.argv[1:], compose_run)
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
