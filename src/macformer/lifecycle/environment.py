"""The software and hardware a run was made with: `summary.json`'s `environment` object.

Recorded so that a number can be traced to what made it and two throughputs are only set
side by side when they came from one environment (the report checks that). It is never
used to decide anything. Package versions come from the installed distributions'
metadata (importlib.metadata), so recording them imports none of those packages; torch
is imported anyway by the run. ENVIRONMENT_SCHEMA lists every key with its meaning.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

# The distributions whose versions change what a run computes or how fast (beside torch).
PACKAGES = {"triton": "triton", "pytorch_lightning": "pytorch-lightning", "hydra_core": "hydra-core",
            "numpy": "numpy", "datasets": "datasets", "wandb": "wandb"}

ENVIRONMENT_SCHEMA: dict[str, str] = {
    "python": "Python version (platform.python_version)",
    "torch": "torch.__version__, with its local build tag (e.g. 2.13.0+cpu)",
    "torch_build": "cpu, cuda or rocm: the accelerator torch was built for",
    "cuda": "CUDA version torch was built with (torch.version.cuda), null for a CPU build",
    "cudnn": "cuDNN version torch loads (torch.backends.cudnn.version()), null when none",
    **{key: f"installed {dist} version, null when not installed" for key, dist in PACKAGES.items()},
    "os": "operating system and kernel (platform.platform)",
    "cpu_model": "the CPU's model name (/proc/cpuinfo, else platform.processor), null when unknown",
    "cpu_count": "logical CPUs the process may run on (os.sched_getaffinity)",
    "threads": "torch intra-op threads the run used (torch.get_num_threads)",
    "gpu": "null without a CUDA device, else {name, memory_mib, driver, compute_capability} of "
           "device 0 (driver from nvidia-smi, null when it cannot be asked)",
}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def _gpu_driver() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0].strip() if out.strip() else None


def _gpu(torch) -> dict | None:
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    return {"name": props.name, "memory_mib": int(props.total_memory // 2**20), "driver": _gpu_driver(),
            "compute_capability": f"{props.major}.{props.minor}"}


def describe() -> dict:
    """This process's environment, every ENVIRONMENT_SCHEMA key (null where unknown)."""
    import torch

    build = "rocm" if getattr(torch.version, "hip", None) else "cuda" if torch.version.cuda else "cpu"
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {"python": platform.python_version(), "torch": torch.__version__, "torch_build": build,
            "cuda": torch.version.cuda, "cudnn": str(cudnn) if cudnn else None,
            **{key: _version(dist) for key, dist in PACKAGES.items()},
            "os": platform.platform(), "cpu_model": _cpu_model(), "cpu_count": _cpu_count(),
            "threads": torch.get_num_threads(), "gpu": _gpu(torch)}


def one_line(environment: dict | None) -> str:
    """`environment` in one line for a table's provenance: what tells two environments apart
    (software versions, OS, and the CPU model and threads, or the GPU). `?` marks a key the
    summary left null; the same environment always gives the same line."""
    if not isinstance(environment, dict) or not environment:
        return "environment not recorded"

    def get(key: str) -> str:
        value = environment.get(key)
        return "?" if value is None or value == "" else str(value)

    gpu = environment.get("gpu")
    if isinstance(gpu, dict):
        device = (f"{gpu.get('name') or '?'} (sm {gpu.get('compute_capability') or '?'}, "
                  f"driver {gpu.get('driver') or '?'})")
    else:
        device = f"{environment.get('cpu_model') or 'unknown CPU'}, {get('threads')} threads"
    torch_build = get("torch")
    if environment.get("cuda"):
        torch_build += f" (CUDA {get('cuda')}, cuDNN {get('cudnn')})"
    return (f"Python {get('python')}, torch {torch_build}, triton {environment.get('triton') or '-'}, "
            f"lightning {get('pytorch_lightning')}, numpy {get('numpy')}; {get('os')}; {device}")


if __name__ == "__main__":  # `python -m macformer.lifecycle.environment`: this machine's
    import json

    json.dump(describe(), sys.stdout, indent=2)
    print()
