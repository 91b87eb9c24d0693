"""Settings that need hardware this machine must have: a GPU for trainer.accelerator=gpu,
CUDA (and Triton) for attention.options.path=triton.

These checks hold only where the run itself runs: a sweep submitted to a cluster from a
login node without a GPU checks them on the node, not on the login node (check_config's
`on_this_machine=False`).
"""

from __future__ import annotations

import os

from .errors import ConfigError

GPU_ACCELERATORS = ("gpu", "cuda")


def check_device(accelerator: str, attention: str, options: dict, head_dim: int | None) -> None:
    """ConfigError for a GPU setting on a machine without one, or a Triton path that cannot run."""
    import torch

    cuda = torch.cuda.is_available()
    if accelerator in GPU_ACCELERATORS and not cuda:
        raise ConfigError(f"trainer.accelerator={accelerator} needs a CUDA GPU and this machine has none "
                          f"(torch.cuda.is_available() is False); use trainer=cpu or trainer.accelerator=auto")
    if options.get("path") == "triton":
        if why := _triton_cannot_run(accelerator, cuda, head_dim):
            raise ConfigError(f"attention.options.path=triton cannot run: {why}; use "
                              f"attention.options.path=auto (triton where it can run) or reference")


def _triton_cannot_run(accelerator: str, cuda: bool, head_dim: int | None) -> str | None:
    from macformer.attention.rmf.paths import triton_missing
    from macformer.attention.rmf.triton_rmfa import supported

    if why := triton_missing():
        return why
    if os.environ.get("TRITON_INTERPRET") != "1":  # the interpreter runs them on CPU tensors (tests)
        if not cuda:
            return "the Triton kernels need a CUDA GPU (or TRITON_INTERPRET=1 on a CPU), and this machine has none"
        if accelerator == "cpu":
            return "the Triton kernels need a CUDA tensor, and trainer.accelerator=cpu keeps the model on the CPU"
    if head_dim is not None and not supported(head_dim):
        return (f"the Triton kernels need a head dimension that is a power of two in 16..128, "
                f"got model.encoder.head_dim={head_dim}")
    return None
