"""A smoke run per task through the real configs, data layer, model and trainer."""

from __future__ import annotations

import json

import pytest
from training_helpers import train_smoke

from macformer.lifecycle.record import SCHEMA, SUMMARY_NAME

ATTENTION_FOR_TASK = {
    "listops": ["attention=rmfa", "kernel=inverse"],
    "text": ["attention=softmax"],
    "retrieval": ["attention=rmfa", "kernel=exp"],
    "image": ["attention=rfa"],
    "pathfinder": ["attention=kernelized", "kernel=log"],
    "pathx": ["attention=performer"],
}


@pytest.mark.parametrize("task", list(ATTENTION_FOR_TASK))
def test_smoke_run_per_task(task, lra_data, tmp_path):
    generable = task in ("listops", "pathfinder", "pathx")
    # Generable tasks start from an empty data folder, so the run must make its data.
    data_dir = tmp_path / "data" if generable else lra_data
    summary = train_smoke(data_dir, tmp_path / "results", f"task={task}", *ATTENTION_FOR_TASK[task])
    assert summary["status"] == "completed", summary["error"]
    assert summary["task"] == task and summary["profile"] == "smoke"
    assert summary["steps"] == 6 and summary["best_step"] in (2, 5)  # validations after 3 and 6 steps
    assert 0.0 <= summary["val_accuracy"] <= 1.0 and 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["train_tokens_per_second"] > 0 and summary["peak_memory_mb"] > 0
    assert summary["params"] > 0 and summary["device"].startswith("cpu")
    # rmfa records the path it ran (on a CPU the reference); the others have one path.
    assert summary["attention_path"] == ("reference" if "attention=rmfa" in ATTENTION_FOR_TASK[task] else None)
    written = json.loads((tmp_path / "results" / "runs" / "smoke" / task / summary["run_dir"].split(f"/{task}/")[1]
                          / SUMMARY_NAME).read_text())
    assert written == json.loads(json.dumps(summary)) and set(SCHEMA) <= set(written)
    if generable:
        assert "generating" in summary["data_generated"]  # made on the fly, and said so


def test_retrieval_is_a_dual_encoder(lra_data):
    from hydra.utils import instantiate
    from training_helpers import compose_cfg, smoke_overrides

    from macformer.models import DualSequenceClassifier
    from macformer.train import build_model

    cfg = compose_cfg(smoke_overrides(lra_data, "unused", "task=retrieval"))
    model = build_model(cfg, instantiate(cfg.data))
    assert isinstance(model, DualSequenceClassifier)
    assert model.head[0].in_features == 4 * cfg.model.encoder.dim  # [x1, x2, x1·x2, x1−x2]
