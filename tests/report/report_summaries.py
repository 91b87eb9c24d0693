"""Hand-written run summaries for the report tests (importable by name, unlike conftest)."""

import json
from pathlib import Path

# Every key of the summary schema, as training writes it; tests override what they need.
BASE_SUMMARY = {
    "task": "listops", "attention": "softmax", "kernel": None, "ppsbn": None,
    "num_features": None, "causal": None, "protocol": "lra", "dataset": "lra", "tag": None,
    "seed": 0, "profile": "cpu", "status": "completed", "error": None, "stop_reason": None,
    "val_accuracy": 0.30, "test_accuracy": 0.30, "chance_accuracy": 0.17, "test_examples": 2000,
    "best_step": 100, "steps": 200,
    "max_steps": 200, "train_seconds": 60.0, "train_tokens_per_second": 1000.0,
    "train_steps_per_second": 2.0, "throughput_steps": 195, "peak_memory_mb": 500.0,
    "device": "cpu, 2 threads",
    "params": 12345, "seq_len": 512, "batch_size": 8, "config_hash": "0123456789abcdef",
    "git_commit": "abc1234", "start_time": "2024-05-01T10:00:00+00:00",
    "end_time": "2024-05-01T10:01:00+00:00", "run_dir": "unused",
}


def summary(**overrides) -> dict:
    """BASE_SUMMARY with `overrides`, any key of the summary schema (environment,
    best_checkpoint, ... that BASE_SUMMARY leaves out, as older summaries do)."""
    from macformer.lifecycle.record import SCHEMA

    unknown = set(overrides) - set(BASE_SUMMARY) - set(SCHEMA)
    assert not unknown, f"not in the schema: {unknown}"
    return {**BASE_SUMMARY, **overrides}


def legacy(**overrides) -> dict:
    """A summary written before causal, protocol, dataset, tag, chance_accuracy and
    test_examples existed."""
    new = ("causal", "protocol", "dataset", "tag", "chance_accuracy", "test_examples",
           "stop_reason")
    return {k: v for k, v in summary(**overrides).items() if k not in new}


def write_metrics(run_dir: Path, val: list[tuple[int, float]], *, cut: str = "") -> Path:
    """<run dir>/csv/metrics.csv written by Lightning's CSVLogger as conf/logger/csv.yaml
    sets it up: a train row at every step of `val` and a validation row (val/accuracy,
    val/loss) for each (step, accuracy). `cut` is appended verbatim (a half-written line)."""
    from pytorch_lightning.loggers import CSVLogger

    logger = CSVLogger(save_dir=str(run_dir), name="csv", version="")
    for step, accuracy in val:
        logger.log_metrics({"train/loss": 2.0, "train/accuracy": 0.2}, step=step)
        logger.log_metrics({"val/loss": 1.5, "val/accuracy": accuracy, "epoch": 0}, step=step)
    logger.save()
    path = run_dir / "csv" / "metrics.csv"
    if cut:
        with path.open("a") as handle:
            handle.write(cut)
    return path


def write_summaries(root: Path, runs: dict[str, dict]) -> Path:
    """runs: relative run folder -> summary dict (or a str written verbatim)."""
    for rel, content in runs.items():
        path = root / rel / "summary.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return root


MISSING_TEXT = "IMDb not found under data/text; fetch it with: make data TASKS=text"


def table_after(markdown: str, heading: str) -> list[str]:
    """The table lines of the first table after `heading`."""
    lines = markdown.splitlines()
    start = lines.index(heading)
    table = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table
