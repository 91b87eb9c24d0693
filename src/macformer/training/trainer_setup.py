"""The Trainer's settings as this machine makes them: conf/trainer's `auto` precision and
determinism made concrete (16-bit mixed and nondeterministic on a GPU, 32-bit and
deterministic on the CPU), and the device a run names in its summary."""

from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf


def uses_gpu(cfg: DictConfig) -> bool:
    accelerator = cfg.trainer.accelerator
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def device_name(cfg: DictConfig, world_size: int) -> str:
    """e.g. 'cpu, 2 threads' or the GPU's name, '× N processes' under DDP (summary: device)."""
    if uses_gpu(cfg):
        name = torch.cuda.get_device_name(0)
    else:
        name = f"cpu, {torch.get_num_threads()} threads"
    return name if world_size == 1 else f"{name} × {world_size} processes"


def trainer_settings(cfg: DictConfig) -> DictConfig:
    """The trainer config with `auto` precision / determinism made concrete."""
    settings = OmegaConf.to_container(cfg.trainer, resolve=True)
    gpu = uses_gpu(cfg)
    if settings["precision"] == "auto":
        settings["precision"] = "16-mixed" if gpu else "32-true"
    if settings["deterministic"] == "auto":
        settings["deterministic"] = not gpu
    return OmegaConf.create(settings)
