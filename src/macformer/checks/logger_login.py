"""logger=wandb needs a way to log in: checked before the run starts."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .errors import ConfigError

OFFLINE_MODES = ("offline", "disabled", "dryrun")


def check_logger_login(cfg: DictConfig) -> None:
    """logger=wandb needs an API key unless W&B runs offline; without one, wandb would fail
    deep inside Lightning (or wait for a login prompt), so say how to fix it up front."""
    targets = [str(OmegaConf.select(c, "_target_", default="")) for c in (cfg.logger or {}).values()]
    if not any(t.endswith("WandbLogger") for t in targets):
        return
    if os.environ.get("WANDB_MODE", "").lower() in OFFLINE_MODES or os.environ.get("WANDB_API_KEY"):
        return
    netrc_path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0].split(":")[0]
    try:
        import netrc

        if netrc.netrc(netrc_path).authenticators(host):
            return
    except (OSError, netrc.NetrcParseError):
        pass
    raise ConfigError(f"logger=wandb: no W&B API key (WANDB_API_KEY is unset and {netrc_path} has no "
                      f"entry for {host}); run `wandb login` or set WANDB_API_KEY, or log offline with "
                      f"WANDB_MODE=offline (upload later with `wandb sync`), or use logger=csv")
