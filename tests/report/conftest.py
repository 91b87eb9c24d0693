from pathlib import Path

import pytest
from report_summaries import MISSING_TEXT, summary, write_summaries  # noqa: F401


@pytest.fixture
def hand_written_runs(tmp_path) -> Path:
    """A small sweep, written by hand: two softmax seeds, RMFA with and without ppSBN
    (one failed run, one partly failed cell), an RFA run without a softmax baseline
    on its task, a task whose data is missing, a re-run that supersedes a failure, a
    GPU run of another profile, and a summary that cannot be read."""
    rmfa = {"attention": "rmfa", "kernel": "exp", "ppsbn": True, "num_features": 128,
            "causal": True}
    pathfinder = {"task": "pathfinder", "seq_len": 1024, "chance_accuracy": 0.5}
    return write_summaries(tmp_path / "runs", {
        "cpu/listops/softmax/seed0": summary(test_accuracy=0.30),
        "cpu/listops/softmax/seed1": summary(seed=1, test_accuracy=0.34,
                                             train_tokens_per_second=1200.0,
                                             peak_memory_mb=700.0),
        "cpu/listops/rmfa-exp/seed0": summary(**rmfa, test_accuracy=0.365,
                                              train_tokens_per_second=3300.0,
                                              peak_memory_mb=150.0),
        "cpu/listops/rmfa-exp/seed1": summary(
            **rmfa, seed=1, status="failed", test_accuracy=None, val_accuracy=None, steps=17,
            error="Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                  "FloatingPointError: loss is nan at step 17"),
        "cpu/listops/rmfa-inverse-noppsbn/seed0": summary(
            **{**rmfa, "kernel": "inverse", "ppsbn": False}, status="failed", steps=3,
            test_accuracy=None, val_accuracy=None, error="ValueError: |q·k| = 1.7 >= radius 1"),
        "cpu/pathfinder/rfa/seed0": summary(**pathfinder, attention="rfa", num_features=128,
                                            test_accuracy=0.6125),
        # First attempt failed, the re-run (later end_time) completed: only the re-run counts.
        "cpu/pathfinder/softmax-old/seed0": summary(
            **pathfinder, status="interrupted", error="KeyboardInterrupt",
            test_accuracy=None, end_time="2024-05-01T09:00:00+00:00"),
        "cpu/pathfinder/softmax/seed0": summary(**pathfinder, test_accuracy=0.55,
                                                train_tokens_per_second=800.0,
                                                peak_memory_mb=900.0, device="cpu, 1 thread"),
        "cpu/text/softmax/seed0": summary(task="text", status="missing", error=MISSING_TEXT,
                                          test_accuracy=None, val_accuracy=None),
        "cpu/text/rmfa-exp/seed0": summary(task="text", **rmfa, status="missing",
                                           error=MISSING_TEXT, test_accuracy=None,
                                           val_accuracy=None),
        "paper/listops/softmax/seed0": summary(profile="paper", test_accuracy=0.3737,
                                               device="NVIDIA H100", seq_len=2000, batch_size=32),
        "cpu/image/softmax/seed0": "{ half a summ",
    })
