"""A diverged run fails (it used to end `completed` with NaN checkpoints); lr must be finite."""

from __future__ import annotations

import math

import pytest
import pytorch_lightning as pl
import torch
from integrity_helpers import overrides, run_dir, summary_of, train_here
from training_helpers import compose_cfg

from macformer.checks import check_config
from macformer.checks.errors import ConfigError
from macformer.lifecycle.outcome import TrainingDiverged
from macformer.training.callbacks.training_health import SkipCounter, TrainingHealth


def test_nan_loss_fails_the_run_at_its_step(listops_data, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"training loss nan at step \d+: training diverged; lower task.lr"):
        train_here(listops_data, tmp_path, "task.lr=1e6")
    summary = summary_of(tmp_path)
    assert summary["status"] == "failed" and summary["stop_reason"] == "non_finite_loss"
    assert summary["failed_step"] == summary["steps"] >= 1
    assert summary["error"].startswith("TrainingDiverged: training loss nan at step")
    for checkpoint in (run_dir(tmp_path) / "checkpoints").glob("*.ckpt"):  # none may hold NaN weights
        state = torch.load(checkpoint, weights_only=True)["state_dict"]
        assert all(torch.isfinite(w).all() for w in state.values()), checkpoint


@pytest.mark.parametrize("lr", ["inf", "-inf", "nan", "0", "-1e-3"])
def test_non_finite_or_non_positive_lr_is_refused(lr, tmp_path):
    args = overrides(tmp_path, tmp_path, f"task.lr={lr}")
    with pytest.raises(ConfigError, match=r"task.lr must be a positive finite number"):
        check_config(compose_cfg(args), args)


def test_non_finite_weights_are_never_checkpointed():
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    module = pl.LightningModule()
    module.layer = torch.nn.Linear(2, 2)
    TrainingHealth().on_save_checkpoint(trainer, module, {})  # finite: fine
    with torch.no_grad():
        module.layer.weight[0, 0] = math.inf
    with pytest.raises(TrainingDiverged, match=r"non-finite weights \(layer.weight\) at step 0"):
        TrainingHealth().on_save_checkpoint(trainer, module, {})


def test_routine_grad_scaler_skips_pass():
    counter = SkipCounter()
    verdicts = [counter.record(step < 8) for step in range(2000)]  # calibration at the start
    verdicts += [counter.record(step % 2000 == 0) for step in range(10000)]  # one per growth interval
    assert not any(verdicts) and counter.skipped == 8 + 5


def test_persistent_grad_scaler_skips_fail():
    consecutive = SkipCounter()
    verdicts = [consecutive.record(True) for _ in range(21)]
    assert verdicts[:20] == [None] * 20 and "skipped 21 steps in a row" in verdicts[20]
    frequent = SkipCounter()
    verdicts = [frequent.record(step % 5 == 0) for step in range(500)]  # 20 %, never 2 in a row
    assert verdicts[:499] == [None] * 499 and "skipped 100 of 500 steps" in verdicts[499]


def test_skip_count_survives_a_resume():
    before = SkipCounter()
    for step in range(30):
        before.record(step % 3 == 0)
    after = SkipCounter()
    after.load_state_dict(before.state_dict())
    assert (after.steps, after.skipped) == (30, 10)


class _Overflow(pl.LightningModule):
    """A finite loss whose float16 backward overflows from step `good` on."""

    def __init__(self, good: int):
        super().__init__()
        self.layer, self.good = torch.nn.Linear(4, 1), good

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).float().mean() * (1e10 if self.global_step >= self.good else 1.0)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-3)


def test_grad_scaler_skipping_every_step_fails_the_run():
    # Lightning gives CPU 16-mixed no scaler; a real GradScaler on CPU runs the same path as CUDA's.
    from pytorch_lightning.plugins.precision import MixedPrecision

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 4)), batch_size=2)
    health = TrainingHealth()
    trainer = pl.Trainer(accelerator="cpu", max_steps=60, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[health],
                         plugins=[MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))])
    with pytest.raises(TrainingDiverged, match=r"GradScaler skipped 21 steps in a row .* at step \d+") as failure:
        trainer.fit(_Overflow(good=5), data)
    assert failure.value.reason == "skipped_steps" and health.skips.skipped >= 21


class _NanFrom(pl.LightningModule):
    """A loss that turns NaN from optimiser step `bad` on."""

    def __init__(self, bad: int):
        super().__init__()
        self.layer, self.bad = torch.nn.Linear(4, 1), bad

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).mean()
        return loss * math.nan if self.global_step >= self.bad else loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-3)


@pytest.mark.parametrize("check_every", [1, 5, 50])
def test_a_deferred_check_names_the_step_the_loss_went_non_finite(check_every):
    # check_every > 1 is what a GPU run does (no host sync per step); the failure still
    # names the first bad step, and training never runs past the next check.
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 4)), batch_size=2)
    health = TrainingHealth(check_every=check_every)
    trainer = pl.Trainer(accelerator="cpu", max_steps=20, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[health])
    with pytest.raises(TrainingDiverged, match=r"training loss nan at step 4:") as failure:
        trainer.fit(_NanFrom(bad=3), data)  # global_step 3 during the 4th batch, 4 after it
    assert failure.value.step == 4 and failure.value.reason == "non_finite_loss"
    # Read at the first multiple of check_every from step 4 on, or at the end of training.
    assert trainer.global_step == {1: 4, 5: 5, 50: 20}[check_every]
