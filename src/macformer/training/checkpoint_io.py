"""Checkpoints written whole, inside the run folder: a temporary file beside the
checkpoint, then os.replace (macformer.atomic).

Lightning's own writer goes through fsspec, which writes a temporary file in TMPDIR and
then moves it into place; with TMPDIR on another filesystem (usual on clusters) the move
is a copy that follows a symlink planted at best.ckpt or last.ckpt, overwriting its
target, and a full TMPDIR fails a run whose results disk has room. Here TMPDIR plays no
part, a symlink at the checkpoint's name is replaced (never written through), and a kill
or a full disk leaves the previous checkpoint under its name, never a truncated one.
"""

from __future__ import annotations

import io
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from macformer import atomic


class RunFolderCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic.write_bytes(path, buffer.getbuffer())
