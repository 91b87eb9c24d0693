"""Hand-written run summaries for the report tests (importable by name, unlike conftest)."""

import json
from pathlib import Path

# Every key of the summary schema, as training writes it; tests override what they need.
BASE_SUMMARY = {
    "task": "listops", "attention": "softmax", "kernel": None, "ppsbn": None,
    "num_features": None, "seed": 0, "profile": "cpu", "status": "completed", "error": None,
    "val_accuracy": 0.30, "test_accuracy": 0.30, "best_step": 100, "steps": 200,
    "max_steps": 200, "train_seconds": 60.0, "train_tokens_per_second": 1000.0,
    "train_steps_per_second": 2.0, "peak_memory_mb": 500.0, "device": "cpu, 2 threads",
    "params": 12345, "seq_len": 512, "batch_size": 8, "config_hash": "0123456789abcdef",
    "git_commit": "abc1234", "start_time": "2024-05-01T10:00:00+00:00",
    "end_time": "2024-05-01T10:01:00+00:00", "run_dir": "unused",
}


def summary(**overrides) -> dict:
    unknown = set(overrides) - set(BASE_SUMMARY)
    assert not unknown, f"not in the schema: {unknown}"
    return {**BASE_SUMMARY, **overrides}


def write_summaries(root: Path, runs: dict[str, dict]) -> Path:
    """runs: relative run folder -> summary dict (or a str written verbatim)."""
    for rel, content in runs.items():
        path = root / rel / "summary.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return root


MISSING_TEXT = "IMDb not found under data/text; fetch it with: make data TASKS=text"
