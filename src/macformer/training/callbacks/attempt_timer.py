"""trainer.max_time per attempt (see training/stop_reason.py): Lightning's own Timer carries
the elapsed time over in the checkpoint, so a resumed run would stop at once."""

from __future__ import annotations

from pytorch_lightning.callbacks import Timer


class AttemptTimer(Timer):
    """trainer.max_time, counted from the start of this attempt."""

    # Nothing carried over: earlier attempts' time was their own budget.
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict) -> None:
        pass
