"""What a data module tells the model about its task: the padded length, vocabulary,
classes and pairing. Shared by the real data module and the calibration's random inputs,
which must give the model exactly the same shape."""

from __future__ import annotations

from .variants import padded_length


class TaskShape:
    """Needs `self.spec` (tasks.task_spec), `self.task`, `self.dataset` and `self.max_length`."""

    @property
    def seq_len(self) -> int:
        """The padded length of every batch (variants.padded_length), the model's positions."""
        return padded_length(self.task, self.dataset, self.max_length)

    @property
    def vocab_size(self) -> int:
        return self.spec.vocab_size

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    @property
    def is_pair(self) -> bool:
        return self.spec.is_pair
