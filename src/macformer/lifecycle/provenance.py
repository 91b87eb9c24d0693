"""A run's provenance, written only by the process that trains it: the code it ran
(`git_commit`, into summary.json), its configs and its log.

Hydra itself would write `.hydra/` and `train.log` into the run folder before the job
starts, so a job that only finds its run completed (and skips it) would rewrite the
completed run's overrides and add to its log. conf/train.yaml turns both off
(hydra.output_subdir: null, a console-only job logging) and this module writes them once
the run is known to train: `.hydra/{config,hydra,overrides}.yaml` and `train.log`
(appended to across attempts). None of them is written through a symlink: the configs
are written atomically (a link at their name is replaced) and train.log is opened with
O_NOFOLLOW (lifecycle/run_folder.py has removed planted links before).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from macformer import atomic

LOG_NAME = "train.log"
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"
REPO_ROOT = Path(__file__).resolve().parents[3]  # src/macformer/lifecycle/ -> the checkout


def git_commit() -> str | None:
    """HEAD of the checkout this code runs from, '+dirty' when tracked files changed; None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def write_configs(run_dir: Path, cfg: DictConfig, overrides: Sequence[str]) -> None:
    folder = Path(run_dir) / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg))
    atomic.write_text(folder / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(list(overrides))))
    try:
        from hydra.core.hydra_config import HydraConfig

        hydra_cfg = HydraConfig.get()
    except ValueError:  # composed without @hydra.main (macformer.train.run)
        return
    atomic.write_text(folder / "hydra.yaml", OmegaConf.to_yaml(OmegaConf.create({"hydra": hydra_cfg})))


class _NoFollowFileHandler(logging.FileHandler):
    """A FileHandler that appends to its file, never to a symlink's target (ELOOP instead)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class RunLog:
    """`<run dir>/train.log`: this process's log records while the run trains."""

    def __init__(self, run_dir: Path):
        self.handler = _NoFollowFileHandler(Path(run_dir) / LOG_NAME, mode="a")
        self.handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(self.handler)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()
