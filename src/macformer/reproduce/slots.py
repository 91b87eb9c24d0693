"""Where runs go: the device's slots, one run per slot at a time.

On GPUs: `--gpus` (default: every visible one) × `--jobs-per-gpu`, each slot's runs seeing
only their GPU through CUDA_VISIBLE_DEVICES. On a CPU: `--jobs` slots sharing the cores,
each run with cores / jobs threads (more threads than cores only slows every run down).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slot:
    name: str  # e.g. "gpu0/1", "cpu/2"
    env: dict = field(default_factory=dict)  # added to a run's environment


@dataclass(frozen=True)
class Device:
    kind: str  # "cuda" or "cpu"
    name: str  # the GPU's name, or the CPU's model and cores
    units: tuple[str, ...]  # CUDA_VISIBLE_DEVICES entries, or ("cpu",)
    cores: int
    memory_mb: float  # per GPU, or the machine's available memory

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def detect(gpus: str | None = None, use_gpu: bool = True) -> Device:
    """The device runs go to: the GPUs `gpus` names ("all" or "0,1": CUDA_VISIBLE_DEVICES
    entries), else the CPU."""
    import psutil
    import torch

    cores = cpu_cores()
    if use_gpu and torch.cuda.is_available() and gpus != "none":
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = [i.strip() for i in visible.split(",") if i.strip()] if visible else [
            str(i) for i in range(torch.cuda.device_count())]
        chosen = ids if gpus in (None, "all") else [g.strip() for g in gpus.split(",")]
        unknown = [g for g in chosen if g not in ids]
        if unknown:
            raise ValueError(f"--gpus {gpus}: not visible: {', '.join(unknown)} (visible: {', '.join(ids)})")
        index = ids.index(chosen[0])
        memory = torch.cuda.get_device_properties(index).total_memory / 2**20
        return Device("cuda", torch.cuda.get_device_name(index), tuple(chosen), cores, memory)
    model = "cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return Device("cpu", f"{model} x{cores}", ("cpu",), cores, psutil.virtual_memory().available / 2**20)


def threads_per_job(device: Device, jobs: int, threads: int | None = None) -> int:
    return threads or max(1, device.cores // jobs)


def slots(device: Device, jobs: int, threads: int | None = None) -> list[Slot]:
    """`jobs` slots per GPU, or `jobs` on the CPU with `threads` each (default: cores / jobs)."""
    if device.kind == "cuda":
        return [Slot(f"gpu{g}/{j + 1}", {"CUDA_VISIBLE_DEVICES": g})
                for j in range(jobs) for g in device.units]
    n = str(threads_per_job(device, jobs, threads))
    env = {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}
    return [Slot(f"cpu/{j + 1}", env) for j in range(jobs)]


def layout(device: Device, jobs: int, threads: int | None = None) -> str:
    """What a measurement depends on besides the device: runs side by side, threads each."""
    if device.kind == "cuda":
        return f"{jobs} per GPU"
    return f"{jobs} jobs x {threads_per_job(device, jobs, threads)} threads"
