"""The self-pretraining stage inside real smoke runs: the fine-tuning starts from the
pretrained encoder's exact weights, an interruption in either stage resumes bit for bit,
a completed pretraining is not redone, and pretrain=lm is refused for a bidirectional row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from macformer.checks import ConfigError, check_config
from macformer.config import compose_run
from macformer.train import build_model, train
from macformer.training.pretrain_stage import DONE_NAME, pretrain_encoder

ROW = ("task=listops", "attention=rmfa", "kernel=exp")  # causal: both objectives allowed
LONGER = ("pretrain.steps=8", "pretrain.eval_every=4", "task.max_steps=8", "task.eval_every=4")


def overrides(data: Path, results: Path, *extra: str) -> list[str]:
    return ["profile=smoke", *ROW, "logger=csv", f"paths.data_dir={data}", f"paths.results_dir={results}",
            *LONGER, *extra]


def run(data: Path, results: Path, *extra: str) -> dict:
    o = overrides(data, results, *extra)
    return train(compose_run(o), o)


def run_dir(results: Path, objective: str) -> Path:
    return results / "runs" / "smoke" / "listops" / f"rmfa-exp-causal-spt-{objective}" / "seed0"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spt_data")
    run(folder, tmp_path_factory.mktemp("warm"), "pretrain=none")  # generates the smoke ListOps once
    return folder


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory) -> dict[str, dict]:
    """Uninterrupted self-pretrained runs, one per objective: the references."""
    results = tmp_path_factory.mktemp("straight")
    return {objective: run(data, results, f"pretrain={objective}") for objective in ("mlm", "lm")}


def test_the_fine_tuning_starts_from_the_pretrained_encoder(data, tmp_path):
    cfg = compose_run(overrides(data, tmp_path, "pretrain=mlm"))
    datamodule = instantiate(cfg.data)
    datamodule.check_splits()
    model = build_model(cfg, datamodule)
    assert model.encoder.token_embedding.num_embeddings == datamodule.vocab_size + 1  # the mask token's row
    folder = tmp_path / "run"
    done = pretrain_encoder(cfg, datamodule, model, folder, [], None)
    assert done["steps"] == 8 and done["objective"] == "mlm" and 0 <= done["token_accuracy"] <= 1
    saved = torch.load(folder / "pretrain" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    trained = model.encoder.state_dict()
    assert all(torch.equal(trained[k], saved[f"encoder.{k}"]) for k in trained)
    progress = json.loads((folder / "progress.json").read_text())  # what the driver shows meanwhile
    assert (progress["stage"], progress["step"], progress["max_steps"]) == ("pretraining", 8, 8)
    # A second model, the stage found done: the same weights, exactly, nothing trained again.
    fresh = build_model(cfg, datamodule)
    assert not all(torch.equal(fresh.encoder.state_dict()[k], trained[k]) for k in trained)
    again = pretrain_encoder(cfg, datamodule, fresh, folder, [], None)
    assert again == done
    assert all(torch.equal(fresh.encoder.state_dict()[k], trained[k]) for k in trained)


@pytest.mark.parametrize("objective", ["mlm", "lm"])
def test_an_interrupted_pretraining_resumes_bit_for_bit(data, straight, tmp_path, objective):
    with pytest.raises(SystemExit):  # RunInterrupted, once the interruption is recorded
        run(data, tmp_path, f"pretrain={objective}", "debug.interrupt_pretrain_at_step=6")
    stopped = json.loads((run_dir(tmp_path, objective) / "summary.json").read_text())
    assert stopped["status"] == "interrupted" and not (run_dir(tmp_path, objective) / "pretrain" / DONE_NAME).exists()
    resumed = run(data, tmp_path, f"pretrain={objective}")
    reference = straight[objective]
    for key in ("loss", "token_accuracy", "steps"):
        assert resumed["pretraining"][key] == reference["pretraining"][key], key
    for key in ("val_accuracy", "test_accuracy", "best_step", "steps"):
        assert resumed[key] == reference[key], key
    assert resumed["attention_diagnostics"] == reference["attention_diagnostics"]


def test_an_interrupted_fine_tuning_keeps_its_pretraining(data, straight, tmp_path):
    with pytest.raises(SystemExit):  # RunInterrupted, once the interruption is recorded
        run(data, tmp_path, "pretrain=mlm", "debug.interrupt_at_step=6")
    done = run_dir(tmp_path, "mlm") / "pretrain" / DONE_NAME
    written = done.stat().st_mtime_ns
    resumed = run(data, tmp_path, "pretrain=mlm")
    assert done.stat().st_mtime_ns == written  # not redone
    assert resumed["resumed_from"].endswith("last.ckpt")
    reference = straight["mlm"]
    for key in ("val_accuracy", "test_accuracy", "best_step", "steps"):
        assert resumed[key] == reference[key], key
    assert resumed["pretraining"]["loss"] == reference["pretraining"]["loss"]


def test_summary_records_the_pretraining(straight):
    for objective, summary in straight.items():
        assert summary["pretrain"] == objective and summary["run_dir"].endswith(f"-spt-{objective}/seed0")
        record = summary["pretraining"]
        assert record["steps"] == 8 and record["seconds"] > 0 and 0 < record["time_share"] < 1
        diagnostics = summary["attention_diagnostics"]
        assert {"after_pretraining", "after_training"} <= set(diagnostics)
        assert 0 < diagnostics["after_pretraining"][0]["entropy"] <= 1 + 1e-9


def test_lm_is_refused_for_a_bidirectional_row(data, tmp_path):
    o = ["profile=smoke", "task=listops", "attention=rmfa", "attention.options.causal=false", "pretrain=lm",
         f"paths.results_dir={tmp_path}"]
    with pytest.raises(ConfigError, match="pretrain=lm predicts each next token, so it needs a causal attention"):
        check_config(compose_run(o), o)
    check_config(compose_run([*o[:-2], "pretrain=mlm", o[-1]]), o)  # mlm is allowed for every row


def test_no_pretraining_keeps_the_hash_and_label(tmp_path):
    from macformer.lifecycle.resume import config_hash

    cfg = compose_run(["profile=cpu", "attention=softmax"])
    assert config_hash(cfg) == "c274a1f478f14d5c"  # the committed cpu softmax runs' hash
    assert cfg.run.label == "softmax" and "pretrain" not in json.dumps(cfg.run.relative_dir)
