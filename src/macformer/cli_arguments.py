"""Command-line arguments of macformer-report, -data, -reproduce and -evaluate: a mistake is
one line. A leaf: every CLI imports it, it imports nothing of the package.

argparse prints its usage block before the error; here the error is the one line
(`<prog>: error: <what> (see <prog> --help)`), exit status 2 as argparse's. The types
say what a number may be, so a negative size fails here, not deep in a generator.
"""

from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def integer_from(low: int, high: int | None = None):
    """An argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            allowed = f"an integer in [{low}, {high}]" if high is not None else (
                "a positive integer" if low == 1 else f"an integer ≥ {low}")
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return number

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


POSITIVE = integer_from(1)
SEED = integer_from(0, 2**32 - 1)
