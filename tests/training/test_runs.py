"""Resume, skip, determinism, failed-run summaries and bad configs, in-process on ListOps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException
from training_helpers import compose_cfg, smoke_overrides, train_smoke

from macformer.checks.errors import ConfigError
from macformer.lifecycle.record import SCHEMA, SUMMARY_NAME

LISTOPS = ["task=listops", "attention=rmfa", "kernel=exp"]
REPORT_KEYS = {"task", "attention", "kernel", "ppsbn", "num_features", "seed", "profile", "status",
               "error", "val_accuracy", "test_accuracy", "best_step", "steps", "train_seconds",
               "train_tokens_per_second", "train_steps_per_second", "peak_memory_mb", "device",
               "params", "config_hash", "git_commit", "start_time", "end_time"}


def _weights(summary):
    state = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return state


def test_summary_schema(lra_data, tmp_path):
    summary = train_smoke(lra_data, tmp_path, *LISTOPS)
    assert REPORT_KEYS <= set(SCHEMA) <= set(summary)
    assert summary["kernel"] == "exp" and summary["ppsbn"] is True and summary["num_features"] == 128
    softmax = train_smoke(lra_data, tmp_path, "task=listops", "attention=softmax")
    # softmax has no kernel and no features; its ppSBN option is off under the LRA protocol.
    assert softmax["kernel"] is None and softmax["ppsbn"] is False and softmax["num_features"] is None
    assert softmax["run_dir"].endswith("smoke/listops/softmax/seed0")


def test_determinism_same_seed_same_metrics(lra_data, tmp_path):
    a = train_smoke(lra_data, tmp_path / "a", *LISTOPS)
    b = train_smoke(lra_data, tmp_path / "b", *LISTOPS)
    for key in ("val_accuracy", "test_accuracy", "best_step", "config_hash"):
        assert a[key] == b[key]
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize(("signal", "step", "eval_every"),
                         [("SIGINT", 4, 3), ("SIGINT", 9, 4), ("SIGTERM", 6, 5), ("SIGTERM", 8, 5)],
                         ids=["ctrl-c", "ctrl-c-to-epoch-end", "sigterm", "sigterm-epoch-end"])
def test_resume_after_interruption_matches_uninterrupted(lra_data, tmp_path, signal, step, eval_every):
    """A real Ctrl-C goes back to the last validation's checkpoint; SLURM's SIGTERM stops
    training after the step it lands in and saves that step. Mid-epoch or on the last batch
    of an epoch (the smoke set is 8 batches), the re-run continues bit for bit, dropout
    draws included."""
    longer = [*LISTOPS, "task.max_steps=12", f"task.eval_every={eval_every}"]
    straight = train_smoke(lra_data, tmp_path / "straight", *longer)
    with pytest.raises((SystemExit, KeyboardInterrupt)):
        train_smoke(lra_data, tmp_path / "resumed", *longer, f"debug.interrupt_at_step={step}",
                    f"debug.interrupt_signal={signal}")
    run_dir = tmp_path / "resumed" / "runs" / "smoke" / "listops" / "rmfa-exp-causal" / "seed0"
    interrupted = json.loads((run_dir / SUMMARY_NAME).read_text())
    assert interrupted["status"] == "interrupted" and interrupted["error"]
    assert interrupted["stop_reason"] == signal and interrupted["steps"] == step
    resumed = train_smoke(lra_data, tmp_path / "resumed", *longer)
    assert resumed["status"] == "completed" and resumed["resumed_from"].endswith("last.ckpt")
    for key in ("val_accuracy", "test_accuracy", "best_step", "steps"):
        assert resumed[key] == straight[key], key
    ws, wr = _weights(straight), _weights(resumed)
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


def test_completed_run_is_skipped_unless_forced(lra_data, tmp_path):
    first = train_smoke(lra_data, tmp_path, *LISTOPS)
    again = train_smoke(lra_data, tmp_path, *LISTOPS)
    assert again == json.loads(json.dumps(first))  # the stored summary, nothing re-run
    forced = train_smoke(lra_data, tmp_path, *LISTOPS, "run.force=true")
    assert forced["start_time"] >= first["end_time"] and forced["test_accuracy"] == first["test_accuracy"]


def test_changed_setting_in_same_folder_is_refused(lra_data, tmp_path):
    train_smoke(lra_data, tmp_path, *LISTOPS)
    with pytest.raises(ConfigError, match="run.tag"):
        train_smoke(lra_data, tmp_path, *LISTOPS, "task.lr=0.001")
    tagged = train_smoke(lra_data, tmp_path, *LISTOPS, "task.lr=0.001", "run.tag=lr1e-3")
    assert tagged["run_dir"].endswith("rmfa-exp-causal-lr1e-3/seed0")


def test_failed_run_writes_its_summary(tmp_path):
    # Text cannot be generated: an empty data folder fails, and says how to get the data.
    data_dir = tmp_path / "empty"
    data_dir.mkdir()
    with pytest.raises(Exception, match="make data|macformer.data"):
        train_smoke(data_dir, tmp_path / "results", "task=text", "attention=softmax")
    summary = json.loads(next((tmp_path / "results").rglob(SUMMARY_NAME)).read_text())
    assert summary["status"] == "failed" and summary["error"] and summary["val_accuracy"] is None


@pytest.mark.parametrize("override, match", [
    ("attention=nope", "attention"),
    ("task=nope", "task"),
    ("kernel=nope", "kernel"),
    ("profile=nope", "profile"),
    ("logger=nope", "logger"),
])
def test_unknown_group_option_names_the_choices(override, match, tmp_path):
    with pytest.raises(ConfigCompositionException, match=f"(?s)Could not find '{match}/nope'.*Available options"):
        compose_cfg(smoke_overrides(tmp_path, tmp_path, override))


@pytest.mark.parametrize("overrides, match", [
    (["task.batch_size=0"], r"task.batch_size must be a positive integer"),
    (["task.max_steps=-3"], r"task.max_steps must be a positive integer"),
    (["model.encoder.dim=0"], r"model.encoder.dim must be a positive integer"),
    (["data.max_length=0"], r"data.max_length must be a positive integer or null"),
    (["task.warmup_steps=6"], r"task.warmup_steps=6 must be an integer in \[0, task.max_steps=6\)"),
    (["task.eval_every=7"], r"task.eval_every=7 exceeds task.max_steps=6"),
    (["data.max_length=5000"], r"data.max_length=5000 exceeds .*allowed: 1..2048"),
    (["attention=softmax", "kernel=inverse"], r"conflicts with attention=softmax.*kernelized, rmfa"),
    (["attention.options.kernel=cosine"], r"attention.options.kernel='cosine'.*allowed values: exp, inverse"),
    (["+attention.options.sigma=2"], r"attention.options.sigma is not an option of attention 'rmfa'; allowed"),
    (["trainer=cpu", "trainer.precision=16-mixed"], r"16-mixed conflicts with trainer.accelerator=cpu"),
    (["trainer=ddp", "trainer.devices=1"], r"trainer.devices ≥ 2"),
    (["trainer.precision=8"], r"trainer.precision=8 is not allowed; allowed values: auto, 32-true"),
])
def test_bad_values_fail_before_training(overrides, match, tmp_path):
    from macformer.train import train

    all_overrides = smoke_overrides(tmp_path / "data", tmp_path / "results", *overrides)
    with pytest.raises(ConfigError, match=match):
        train(compose_cfg(all_overrides), all_overrides)
    assert not (tmp_path / "results").exists()  # nothing started


def test_generated_data_is_reused_at_the_same_size(tmp_path):
    """A run generates missing ListOps data once; the next run finds it (the generator's
    GENERATED.json marker) and does not generate again."""
    from macformer.data.generate import ensure_generated

    sizes = {"n_train": 64, "n_val": 32, "n_test": 32}  # the smoke profile's
    first = ensure_generated("listops", tmp_path / "data", sizes, seed=0)
    assert first is not None and "generating listops" in first
    assert ensure_generated("listops", tmp_path / "data", sizes, seed=0) is None
    assert "smaller size" in ensure_generated("listops", tmp_path / "data", {**sizes, "n_train": 200}, seed=0)
