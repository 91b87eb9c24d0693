"""Helpers for the run-integrity tests: T = `python -m macformer.train profile=smoke
task=listops attention=softmax paths.data_dir=D`, in this process or in a real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from training_helpers import ROOT, compose_cfg

RUN = ("profile=smoke", "task=listops", "attention=softmax")
LONG = ("task.max_steps=100000", "task.eval_every=50")  # runs until a signal stops it


def overrides(data_dir, results_dir, *extra, logger="csv") -> list[str]:
    return [*RUN, f"logger={logger}", f"paths.data_dir={data_dir}", f"paths.results_dir={results_dir}",
            *extra]


def run_dir(results_dir) -> Path:
    return Path(results_dir) / "runs" / "smoke" / "listops" / "softmax" / "seed0"


def summary_of(results_dir) -> dict:
    return json.loads((run_dir(results_dir) / "summary.json").read_text())


def train_here(data_dir, results_dir, *extra, logger="csv") -> dict:
    from macformer.train import train

    args = overrides(data_dir, results_dir, *extra, logger=logger)
    return train(compose_cfg(args), args)


def generate_listops(data_dir: Path) -> Path:
    from macformer.data.generate import ensure_generated

    cfg = compose_cfg(overrides(data_dir, data_dir / "unused"))
    ensure_generated("listops", data_dir, dict(cfg.generate.listops), cfg.generate.seed, cfg.data.dataset)
    return data_dir


def cli_env(**extra) -> dict:
    return {**os.environ, "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1", **extra}


def start_cli(data_dir, results_dir, *extra, module="macformer.train", args=None, **popen):
    """Start T (or `python -m MODULE ARGS`) in its own process group; output to files."""
    command = [sys.executable, "-m", module, *(args if args is not None else overrides(data_dir, results_dir, *extra))]
    log = Path(results_dir).parent / f"{Path(results_dir).name}-{time.monotonic_ns()}.out"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                               env=popen.pop("env", cli_env()), start_new_session=True, **popen)
    process.output_path = log
    return process


def output(process) -> str:
    return Path(process.output_path).read_text()


def run_cli(data_dir, results_dir, *extra, env=None, timeout=240, **popen) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "macformer.train", *overrides(data_dir, results_dir, *extra)]
    return subprocess.run(command, cwd=ROOT, env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout, **popen)


def wait_for(condition, what: str, process=None, timeout: float = 180.0) -> None:
    """Poll `condition` until true; fail with the process's output if it ends or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended before {what}:\n{output(process)[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def training_started(results_dir, steps: int = 3):
    """True once metrics.csv holds `steps` training steps: the run is inside trainer.fit."""
    metrics = run_dir(results_dir) / "csv" / "metrics.csv"

    def started() -> bool:
        try:
            return metrics.read_text().count("\n") > 2 * steps
        except OSError:
            return False
    return started


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
