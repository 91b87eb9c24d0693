"""The self-pretraining stage of a run (`pretrain=mlm|lm`, conf/pretrain/): before the
fine-tuning, the run's encoder is pretrained on the task's own training inputs (no labels)
with a token head (training/pretrain/), then the fine-tuning starts from those weights and
the head is dropped.

Everything of the stage lives in `<run>/pretrain/`: `checkpoints/last.ckpt` (written at each
of its validations and when it is stopped), its curve `csv/metrics.csv` (a W&B logger gets
it too, as `pretrain/*`), and `done.json` once it has run to `pretrain.steps`. So:
- an interruption during pretraining resumes there (from its last.ckpt, bit for bit on CPU);
- a completed pretraining is never redone: a re-run whose fine-tuning was interrupted resumes
  the fine-tuning from its own checkpoint, and one whose fine-tuning had not started loads the
  pretrained encoder from the stage's last.ckpt;
- `run.force=true` (lifecycle/resume.clear_run) removes the folder with the rest.
The fine-tuning's random state is seeded afresh after the stage (seed_everything(seed)), so it
is the same whether the pretraining ran in this process or was loaded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from omegaconf import DictConfig

from macformer import atomic
from macformer.lifecycle.record import read_json

STAGE_DIR = "pretrain"
DONE_NAME = "done.json"
SECONDS_NAME = "seconds.json"  # pretraining seconds of the attempts so far


def mask_rows(cfg: DictConfig) -> int:
    """Embedding rows the encoder needs beyond the task's vocabulary: one mask token for mlm."""
    pretrain = cfg.get("pretrain")
    return 1 if pretrain is not None and pretrain.objective == "mlm" else 0


def pretrain_encoder(cfg: DictConfig, data, model, run_dir: Path, loggers: list, fine_tune_checkpoint,
                     probe=None) -> dict:
    """Run (or resume, or find done) the pretraining of `model.encoder`; return the summary's
    `pretraining` record (with `attention_after_pretraining`: `probe()` right after it).
    `fine_tune_checkpoint`: the fine-tuning resumes from it (its weights then come from
    there, so a done stage is not even loaded)."""
    import pytorch_lightning as pl

    folder = Path(run_dir) / STAGE_DIR
    last = folder / "checkpoints" / "last.ckpt"
    done = read_json(folder / DONE_NAME)
    if done is None:
        done = _pretrain(cfg, data, model, folder, loggers, probe)
    elif fine_tune_checkpoint is None:
        load_encoder(model.encoder, last)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)  # the fine-tuning's own start
    return dict(done)


def _pretrain(cfg: DictConfig, data, model, folder: Path, loggers: list, probe) -> dict:
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import ModelCheckpoint

    from .callbacks.interrupt_at_step import InterruptAtStep
    from .callbacks.progress_file import PROGRESS_NAME, ProgressFile
    from .callbacks.save_on_stop import SaveOnStop
    from .checkpoint_io import RunFolderCheckpointIO
    from .metrics_history import HistoryCSVLogger
    from .pretrain.module import PretrainModule
    from .resumable_loader import ResumableDataModule
    from .trainer_setup import trainer_settings

    p = cfg.pretrain
    last = folder / "checkpoints" / "last.ckpt"
    module = PretrainModule(model.encoder, vocab_size=data.vocab_size, objective=str(p.objective),
                            lr=float(p.lr), warmup_steps=int(p.warmup_steps), max_steps=int(p.steps),
                            mask_rate=float(p.mask_rate), mask_span=int(p.mask_span),
                            mask_id=data.vocab_size, seed=int(cfg.seed))
    callbacks = [ModelCheckpoint(dirpath=folder / "checkpoints", filename="last", monitor=None, save_top_k=1,
                                 enable_version_counter=False),
                 SaveOnStop(last),
                 ProgressFile(folder.parent / PROGRESS_NAME, stage="pretraining")]  # the run's, as fine-tuning's
    if cfg.debug.get("interrupt_pretrain_at_step") is not None:
        callbacks.append(InterruptAtStep(cfg.debug.interrupt_pretrain_at_step, cfg.debug.interrupt_signal))
    settings = trainer_settings(cfg)
    for key in ("_target_", "max_time", "default_root_dir"):
        settings.pop(key, None)
    settings.update(max_steps=int(p.steps), val_check_interval=int(p.eval_every), check_val_every_n_epoch=None,
                    num_sanity_val_steps=0, enable_progress_bar=bool(cfg.trainer.enable_progress_bar))
    stage_loggers = [HistoryCSVLogger(save_dir=str(folder), name="csv", version="")] + [
        logger for logger in loggers if type(logger).__name__ == "WandbLogger"]  # one W&B run: pretrain/* keys
    trainer = pl.Trainer(**settings, callbacks=callbacks, logger=stage_loggers, default_root_dir=str(folder),
                         plugins=[RunFolderCheckpointIO()])
    earlier = float((read_json(folder / SECONDS_NAME) or {}).get("seconds", 0.0))
    started = time.monotonic()
    try:
        trainer.fit(module, datamodule=ResumableDataModule(data, seed=cfg.seed),
                    ckpt_path=str(last) if last.is_file() else None, weights_only=True)
    finally:
        seconds = earlier + time.monotonic() - started
        folder.mkdir(parents=True, exist_ok=True)
        atomic.write_text(folder / SECONDS_NAME, json.dumps({"seconds": seconds}))
    if trainer.interrupted:
        raise KeyboardInterrupt("pretraining was interrupted")
    if int(trainer.global_step) < int(p.steps):
        raise RuntimeError(f"pretraining stopped at step {trainer.global_step} of {p.steps}")
    trainer.save_checkpoint(last)  # the final weights, whatever the last validation's step was
    done = {"objective": str(p.objective), "steps": int(trainer.global_step), "loss": module.last_loss,
            "token_accuracy": module.last_token_accuracy, "seconds": seconds,
            "attention_after_pretraining": probe() if probe is not None else None}
    atomic.write_text(folder / DONE_NAME, json.dumps(done, indent=2))
    return done


def load_encoder(encoder: torch.nn.Module, checkpoint: Path) -> None:
    """The encoder's weights from the stage's checkpoint (its `encoder.*` entries)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    encoder.load_state_dict({k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")})


def time_share(pretraining: dict, train_seconds: float | None) -> float | None:
    """The pretraining's share of the run's training time (pretraining + fine-tuning seconds)."""
    if not train_seconds or pretraining.get("seconds") is None:
        return None
    return pretraining["seconds"] / (pretraining["seconds"] + float(train_seconds))
