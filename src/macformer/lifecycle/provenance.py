"""A run's provenance, written only by the process that trains it.

Hydra itself would write `.hydra/` and `train.log` into the run folder before the job
starts, so a job that only finds its run completed (and skips it) would rewrite the
completed run's overrides and add to its log. conf/train.yaml turns both off
(hydra.output_subdir: null, a console-only job logging) and this module writes them once
the run is known to train: `.hydra/{config,hydra,overrides}.yaml` and `train.log`
(appended to across attempts).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

LOG_NAME = "train.log"
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"


def write_configs(run_dir: Path, cfg: DictConfig, overrides: Sequence[str]) -> None:
    folder = Path(run_dir) / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create(list(overrides)), folder / "overrides.yaml")
    try:
        from hydra.core.hydra_config import HydraConfig

        hydra_cfg = HydraConfig.get()
    except ValueError:  # composed without @hydra.main (macformer.train.run)
        return
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), folder / "hydra.yaml")


class RunLog:
    """`<run dir>/train.log`: this process's log records while the run trains."""

    def __init__(self, run_dir: Path):
        self.handler = logging.FileHandler(Path(run_dir) / LOG_NAME, mode="a")
        self.handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(self.handler)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()
