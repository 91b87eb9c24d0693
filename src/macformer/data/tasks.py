"""What each LRA task is: its name, padded length, vocabulary and classes.

Token ids are the same for every byte and pixel task: id = byte or pixel value + 1,
so id 0 is free for padding everywhere (LRA pads with 0; shifting keeps a black
pixel or a NUL byte from reading as padding). ListOps has its own 15-token vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
LRA_TASKS = TASKS[:5]  # the five tasks of LRA's average, in the paper's order; Path-X apart
SPLITS = ("train", "val", "test")

PAD_ID = 0

# ListOps tokens after LRA's preprocessing (`]` becomes its own token, parentheses
# are dropped). Ids start at 1; 0 is padding.
LISTOPS_TOKENS = ("[MIN", "[MAX", "[MED", "[SM", "]") + tuple(str(d) for d in range(10))
LISTOPS_TOKEN_IDS = {token: index + 1 for index, token in enumerate(LISTOPS_TOKENS)}

# Byte and pixel tasks: 256 values shifted by one, plus padding.
BYTE_VOCAB_SIZE = 256 + 1


@dataclass(frozen=True)
class TaskSpec:
    """The facts a model needs about one task.

    seq_len is the padded length of one sequence (per document for retrieval);
    max_tokens is where the reader truncates (LRA's cap, never above seq_len).
    """

    name: str
    seq_len: int
    vocab_size: int
    num_classes: int
    is_pair: bool = False
    max_tokens: int | None = None

    def __post_init__(self):
        if self.max_tokens is None:
            object.__setattr__(self, "max_tokens", self.seq_len)


_SPECS = {
    # LRA keeps trees of fewer than 2000 tokens; ports pad to 2048.
    "listops": TaskSpec("listops", 2048, len(LISTOPS_TOKENS) + 1, 10, max_tokens=2000),
    # Byte-level IMDb at 4000 bytes, as the Macformer / Skyformer code does.
    "text": TaskSpec("text", 4000, BYTE_VOCAB_SIZE, 2),
    # Two documents of 4000 bytes each, read by a dual encoder.
    "retrieval": TaskSpec("retrieval", 4000, BYTE_VOCAB_SIZE, 2, is_pair=True),
    "image": TaskSpec("image", 1024, BYTE_VOCAB_SIZE, 10),
    "pathfinder": TaskSpec("pathfinder", 1024, BYTE_VOCAB_SIZE, 2),
    "pathx": TaskSpec("pathx", 16384, BYTE_VOCAB_SIZE, 2),
}


class DataError(Exception):
    """Data that is missing, malformed or asked for by a wrong name."""


class MissingDataError(DataError, FileNotFoundError):
    """A source the task needs is not on disk; the message says how to get it."""


class MalformedDataError(DataError, ValueError):
    """A source file does not have the LRA format; the message names file and line."""


def check_task(task: str) -> str:
    if task not in _SPECS:
        raise DataError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    return task


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


def task_spec(task: str) -> TaskSpec:
    """The spec of `task` (one of TASKS)."""
    return _SPECS[check_task(task)]
