"""The process's random states (torch, CUDA, NumPy, Python) as a checkpoint entry, and
their restoration, so that a resumed run draws what the uninterrupted one would have."""

from __future__ import annotations

import random

import numpy as np
import torch


def capture_rng_states() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        # Tensors and plain tuples only, so checkpoints load with weights_only=True.
        "numpy": _numpy_state_to_plain(np.random.get_state()),
        "python": random.getstate(),
    }


def restore_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    np.random.set_state(_numpy_state_from_plain(states["numpy"]))
    random.setstate(states["python"])


class RestoresRngStates:
    """A LightningModule mixin: the states its on_load_checkpoint put in
    `_rng_states_to_restore` are restored just before the first training step after resuming.
    Not earlier: Lightning may re-run the interrupted validation, and every DataLoader
    iterator draws its seed from the global generator, so those draws would shift them."""

    _rng_states_to_restore: dict | None = None

    def on_train_batch_start(self, batch, batch_idx):
        if self._rng_states_to_restore:
            restore_rng_states(self._rng_states_to_restore)
            self._rng_states_to_restore = None


def _numpy_state_to_plain(state):
    kind, keys, pos, has_gauss, gauss = state
    return (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss))


def _numpy_state_from_plain(state):
    kind, keys, pos, has_gauss, gauss = state
    return (kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss)
