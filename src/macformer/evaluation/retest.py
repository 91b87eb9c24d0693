"""Re-test a run's checkpoint: its settings composed again from its recorded command line
(refused when they no longer hash to the recorded config_hash), its data module and model
built as training built them, and Lightning's `trainer.test` on the test split, as the run
tested it. The logits are then read once more for the tolerance (agreement.py) when the
re-test is not on the run's own CPU environment."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from macformer.lifecycle.environment import describe as describe_environment

from .agreement import Tolerance, environment_differences, epsilon, near_ties
from .record import CannotRetest, RunRecord


@dataclass(frozen=True)
class Retest:
    accuracy: float
    test_examples: int
    test_split_sha256: str | None
    differences: tuple[str, ...]  # from the run's own CPU environment; none: equal to the last digit
    tolerance: Tolerance | None  # elsewhere: how far the accuracy may move

    @property
    def exact(self) -> bool:
        return not self.differences


def compose_recorded(record: RunRecord, data_dir: str | None):
    """The run's settings from its command line (+ another data folder when given)."""
    from macformer.config import compose_run
    from macformer.lifecycle.resume import config_hash

    overrides = [*record.overrides, *([f"paths.data_dir={data_dir}"] if data_dir else [])]
    try:
        cfg = compose_run(overrides)
    except Exception as error:  # noqa: BLE001 - Hydra's and OmegaConf's many errors: one line
        raise CannotRetest(f"{record.run_dir}: its recorded overrides no longer compose "
                           f"({' '.join(str(error).split())})") from None
    recorded = record.summary.get("config_hash")
    if recorded and config_hash(cfg) != recorded:
        raise CannotRetest(f"{record.run_dir}: its overrides now give other settings (config_hash "
                           f"{config_hash(cfg)}, recorded {recorded}): the configs or code changed since "
                           f"commit {record.summary.get('git_commit') or '?'}; re-test at that commit")
    return cfg


@contextmanager
def recorded_threads(threads: int | None):
    """torch's intra-op threads set to the run's for the re-test: a sum split over another
    number of threads is added in another order."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def retest(record: RunRecord, checkpoint: Path, data_dir: str | None = None) -> Retest:
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    from macformer.data.tasks import DataError
    from macformer.train import build_model
    from macformer.training.resumable_loader import ResumableDataModule
    from macformer.training.trainer_setup import trainer_settings, uses_gpu

    cfg = compose_recorded(record, data_dir)
    recorded_env = record.summary.get("environment")
    on_gpu = uses_gpu(cfg)
    with recorded_threads(None if on_gpu else (recorded_env or {}).get("threads")):
        here = describe_environment()
        differences = (["this re-test runs on a GPU"] if on_gpu else
                       environment_differences(recorded_env, here, record.summary.get("device", "")))
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
        try:
            data = instantiate(cfg.data)
            facts = data.check_splits()
        except DataError as error:
            raise CannotRetest(f"{record.run_dir}: its test data cannot be read: {error}") from None
        model = build_model(cfg, data)
        module = instantiate(cfg.lit_module)(model=model, num_classes=data.num_classes)
        datamodule = ResumableDataModule(data, seed=cfg.seed)
        settings = trainer_settings(cfg)
        trainer = instantiate(settings, callbacks=[], logger=False, enable_checkpointing=False,
                              enable_progress_bar=False, enable_model_summary=False)
        results = trainer.test(module, datamodule=datamodule, ckpt_path=str(checkpoint), verbose=False,
                               weights_only=True)  # a received checkpoint never runs code
        accuracy = float(results[0]["test/accuracy"])
        tolerance = None
        if differences:
            precisions = (recorded_precision(cfg, record.summary), str(settings.precision))
            tolerance = logit_tolerance(module, datamodule, epsilon(precisions))
    return Retest(accuracy, int(facts["test_examples"]), facts.get("test_split_sha256"), tuple(differences),
                  tolerance)


def recorded_precision(cfg, summary: dict) -> str:
    """The precision the run tested in: its setting, or what `auto` meant on its device."""
    precision = str(cfg.trainer.precision)
    if precision != "auto":
        return precision
    return "32-true" if str(summary.get("device", "cpu")).startswith("cpu") else "16-mixed"


@torch.no_grad()
def logit_tolerance(module, datamodule, eps: float) -> Tolerance:
    """Count the test examples whose prediction rounding could change (agreement.py)."""
    module.eval()
    device = next(module.parameters()).device
    ties = examples = 0
    for batch in datamodule.test_dataloader():
        batch = {k: v.to(device) for k, v in batch.items()}
        logits = module(batch)  # [B, classes]
        ties += near_ties(logits, eps)
        examples += logits.shape[0]
    return Tolerance(ties, examples, eps)
