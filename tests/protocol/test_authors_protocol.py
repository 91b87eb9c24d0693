"""`protocol=authors`: each piece of the Macformer authors' LRA code, checked against a
reference (PyTorch's own OneCycleLR, clip_grad_value_) or against its definition."""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from torch import nn

from macformer.attention import build_attention
from macformer.config import compose_run
from macformer.data.readers.listops_tsv import tokenize_listops
from macformer.models import Encoder
from macformer.train import _trainer_settings
from macformer.training.callbacks.best_checkpoint import BestCheckpoint
from macformer.training.lit_module import OneCycleWithBeta1, one_cycle_beta1


def compose_cfg(*overrides):
    return compose_run(overrides)


def test_the_switch_sets_every_piece_and_the_default_is_lra():
    lra = compose_cfg("attention=softmax")
    authors = compose_cfg("attention=softmax", "protocol=authors")
    assert lra.protocol.name == "lra" and authors.protocol.name == "authors"
    assert (lra.trainer.gradient_clip_algorithm, authors.trainer.gradient_clip_algorithm) == ("norm", "value")
    assert (lra.lit_module.cycle_beta1, authors.lit_module.cycle_beta1) == (False, True)
    assert (lra.model.encoder.pooling, authors.model.encoder.pooling) == ("real", "all")
    assert (lra.data.limit_val, authors.data.limit_val) == (None, 1984)
    assert (lra.data.test_drop_last, authors.data.test_drop_last) == (False, True)
    assert (lra.data.listops_closing_tokens, authors.data.listops_closing_tokens) == (True, False)
    assert (lra.callbacks.model_checkpoint.save_after_fraction,
            authors.callbacks.model_checkpoint.save_after_fraction) == (0.0, 0.2)
    assert dict(lra.attention.options) == {"dropout": 0.1, "ppsbn": False, "shared_gamma": False}
    assert dict(authors.attention.options) == {"dropout": 0.1, "ppsbn": True, "shared_gamma": True}
    rmfa = compose_cfg("attention=rmfa", "protocol=authors").attention.options
    assert rmfa.shared_gamma is True and rmfa.importance_weights is False and rmfa.causal is True
    # The run label keeps the two protocols' runs apart.
    assert authors.run.label == "softmax-authors" and lra.run.label == "softmax"


def test_listops_eval_frequency_is_500():
    assert compose_cfg("task=listops", "profile=paper").task.eval_every == 500


def test_skyformer_tokenisation_drops_closing_brackets():
    expression = "( ( ( [MAX 2 ) 9 ) ] )"
    assert tokenize_listops(expression) == ["[MAX", "2", "9", "]"]
    assert tokenize_listops(expression, closing_tokens=False) == ["[MAX", "2", "9"]


def _clipped(algorithm: str) -> torch.Tensor:
    cfg = compose_cfg("trainer=cpu", *(["protocol=authors"] if algorithm == "value" else []))
    settings = _trainer_settings(cfg)
    trainer = pl.Trainer(accelerator="cpu", gradient_clip_val=settings.gradient_clip_val,
                         gradient_clip_algorithm=settings.gradient_clip_algorithm, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False)
    weight = nn.Parameter(torch.zeros(3))
    weight.grad = torch.tensor([3.0, -5.0, 0.5])
    optimizer = torch.optim.SGD([weight], lr=1.0)
    trainer.precision_plugin.clip_gradients(optimizer, trainer.gradient_clip_val,
                                            trainer.gradient_clip_algorithm)
    return weight.grad


def test_authors_clip_each_gradient_value_at_1_lra_clips_the_norm():
    reference = torch.tensor([3.0, -5.0, 0.5])
    param = nn.Parameter(torch.zeros(3))
    param.grad = reference.clone()
    torch.nn.utils.clip_grad_value_([param], 1.0)  # what the authors' main.py called
    torch.testing.assert_close(_clipped("value"), param.grad)
    torch.testing.assert_close(_clipped("norm"), reference / reference.norm(), rtol=1e-5, atol=1e-6)


def test_beta1_and_lr_follow_pytorchs_one_cycle():
    """The authors used torch.optim.lr_scheduler.OneCycleLR (linear, momentum cycling on)."""
    steps, warmup, lr = 50, 10, 1e-3
    ours_param, ref_param = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    ours_opt = torch.optim.AdamW([ours_param], lr=lr)
    ref_opt = torch.optim.AdamW([ref_param], lr=lr)
    ours = OneCycleWithBeta1(ours_opt, warmup, steps)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=lr, total_steps=steps, pct_start=warmup / steps,
                                              anneal_strategy="linear")
    for _ in range(steps - 1):
        assert ours_opt.param_groups[0]["betas"][0] == pytest_approx(ref_opt.param_groups[0]["betas"][0])
        assert ours_opt.param_groups[0]["lr"] == pytest_approx(ref_opt.param_groups[0]["lr"])
        ours_opt.step(), ref_opt.step(), ours.step(), ref.step()
    assert one_cycle_beta1(0, warmup, steps) == 0.95
    assert one_cycle_beta1(warmup - 1, warmup, steps) == 0.85
    assert one_cycle_beta1(steps - 1, warmup, steps) == 0.95


def pytest_approx(x):
    import pytest

    return pytest.approx(x, rel=1e-6, abs=1e-7)


class _ScriptedValidation(pl.LightningModule):
    """Validation accuracies read from a script, one per evaluation."""

    def __init__(self, script):
        super().__init__()
        self.layer, self.script, self.evals = nn.Linear(1, 1), list(script), 0

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx):
        pass

    def on_validation_epoch_end(self):
        self.log("val/accuracy", self.script[self.evals])
        self.evals += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def _best_after(script, fraction, tmp_path):
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(64, 1)), batch_size=1)
    checkpoint = BestCheckpoint(dirpath=tmp_path, filename="best", monitor="val/accuracy", mode="max",
                                save_top_k=1, save_after_fraction=fraction)
    trainer = pl.Trainer(max_steps=10, val_check_interval=1, check_val_every_n_epoch=None, logger=False,
                         callbacks=[checkpoint], enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=1)
    trainer.fit(_ScriptedValidation(script), data, data)
    return checkpoint


def test_best_checkpoint_only_after_20_percent_of_the_steps(tmp_path):
    # Step 1's 0.9 is the best so far but too early to save; step 4's 0.95 beats it: saved.
    script = [0.9, 0.5, 0.6, 0.95, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    checkpoint = _best_after(script, 0.2, tmp_path / "a")
    assert checkpoint.best_model_path.endswith("best.ckpt")
    assert float(checkpoint.best_model_score) == pytest_approx(0.95)
    assert torch.load(checkpoint.best_model_path, weights_only=True)["global_step"] == 4
    # Nothing after step 2 beats the early best: no checkpoint, the final model is tested.
    assert _best_after([0.9, 0.5, 0.6, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7], 0.2, tmp_path / "b").best_model_path == ""
    # The LRA standard keeps the best at any step.
    assert float(_best_after(script[:1] + [0.1] * 9, 0.0, tmp_path / "c").best_model_score) == pytest_approx(0.9)


def test_shared_gamma_is_one_vector_for_all_heads():
    for name in ("rmfa", "kernelized", "softmax"):
        options = {"ppsbn": True} if name == "softmax" else {}
        shared = build_attention(name, head_dim=8, num_heads=2, shared_gamma=True, **options)
        per_head = build_attention(name, head_dim=8, num_heads=2, **options)
        assert shared.post_scale.gamma.shape == (1, 1, 8)
        assert per_head.post_scale.gamma.shape == (2, 1, 8)


def test_softmax_under_ppsbn_has_bounded_logits():
    q, k = torch.randn(1, 2, 30, 16) * 10, torch.randn(1, 2, 30, 16) * 10
    weights = build_attention("softmax", head_dim=16, num_heads=2, ppsbn=True).attention_weights(q, k)
    ratio = weights.amax(-1) / weights.amin(-1)
    assert float(ratio.max()) <= math.exp(2 / math.sqrt(16)) + 1e-5


def test_pooling_over_all_positions_counts_padding_as_zeros():
    torch.manual_seed(0)
    ids = torch.randint(1, 10, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 6:] = False
    real = Encoder(10, 12, dim=8, num_layers=1, num_heads=2, head_dim=4, ff_dim=8, dropout=0.0).eval()
    every = Encoder(10, 12, dim=8, num_layers=1, num_heads=2, head_dim=4, ff_dim=8, dropout=0.0,
                    pooling="all").eval()
    every.load_state_dict(real.state_dict())
    a, b = real(ids, mask), every(ids, mask)
    torch.testing.assert_close(b[0], a[0])  # no padding: the same mean
    torch.testing.assert_close(b[1], a[1] * 6 / 12)  # half padding: diluted by half


def test_unweighted_features_drop_the_degree_probability():
    from macformer.attention.rmf.random_maclaurin import (
        RandomMaclaurinFeatures,
        degree_probabilities,
    )

    ours = RandomMaclaurinFeatures(8, 64, "exp", seed=0)
    theirs = RandomMaclaurinFeatures(8, 64, "exp", seed=0, importance_weights=False)
    probs = degree_probabilities(20)[ours.degrees - 1].float()
    torch.testing.assert_close(theirs.scales, ours.scales * probs.sqrt())
