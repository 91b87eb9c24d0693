"""Readers of the LRA sources: each turns one source format into token-id batches.

A reader yields batches as dicts of columns (lists of uint16 numpy arrays for token
ids, lists of ints for labels) and counts what it skips in a `ReadStats`.
"""

from .stats import ReadStats

__all__ = ["ReadStats"]
