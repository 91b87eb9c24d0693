"""Hydra's own making of the run folder, in one line when it cannot be made.

Hydra creates `hydra.run.dir` before the run's code starts; on a read-only or full disk,
a name too long or a symlink loop, its OSError would come out as a traceback. This
callback (conf/train.yaml: hydra.callbacks) makes the folder first, as Hydra would, and
turns such an error into one line and exit 1. Making a folder that exists writes nothing,
so a read-only folder of completed runs can still be run again (each is skipped).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .os_error import describe_os_error


class MakeRunFolder(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        folder = OmegaConf.select(config, "hydra.run.dir")
        if folder is None:
            return
        try:
            Path(str(folder)).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            print(f"error: cannot make the run folder: {describe_os_error(error)}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
