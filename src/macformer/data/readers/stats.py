"""What a reader skipped, reported once a split is built."""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_KEPT = 5


@dataclass
class ReadStats:
    skipped: int = 0
    examples: list[str] = field(default_factory=list)  # a few of the skipped items

    def skip(self, what: str):
        self.skipped += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(what)

    def merge(self, other: ReadStats):
        self.skipped += other.skipped
        self.examples = (self.examples + other.examples)[:EXAMPLES_KEPT]
