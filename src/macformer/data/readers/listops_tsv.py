"""ListOps TSV (`Source\tTarget` header, `<expression>\t<value>` rows), read as LRA
does: `]` becomes its own token, `(` and `)` are dropped, tokens split on whitespace."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tasks import LISTOPS_TOKEN_IDS, MalformedDataError
from .stats import ReadStats

HEADER = ["Source", "Target"]
BATCH = 1000


def tokenize_listops(expression: str) -> list[str]:
    return expression.replace("(", " ").replace(")", " ").split()


def read_listops(path, max_tokens: int, stats: ReadStats, skip_malformed: bool = False):
    path = Path(path)
    batch = {"input_ids": [], "label": []}
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != HEADER:
            raise MalformedDataError(f"{path}:1: expected the header 'Source\\tTarget', got {header!r}")
        for line_no, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                ids, label = _parse_row(line)
            except ValueError as error:
                if skip_malformed:
                    stats.skip(f"{path}:{line_no}")
                    continue
                raise MalformedDataError(f"{path}:{line_no}: {error}") from None
            batch["input_ids"].append(np.asarray(ids[:max_tokens], dtype=np.uint16))
            batch["label"].append(label)
            if len(batch["label"]) == BATCH:
                yield batch
                batch = {"input_ids": [], "label": []}
    if batch["label"]:
        yield batch


def _parse_row(line: str):
    fields = line.split("\t")
    if len(fields) != 2:
        raise ValueError(f"expected 2 tab-separated fields, got {len(fields)}")
    expression, target = fields
    try:
        label = int(target)
    except ValueError:
        raise ValueError(f"label {target!r} is not an integer") from None
    if not 0 <= label <= 9:
        raise ValueError(f"label {label} is not in 0..9")
    ids = []
    for token in tokenize_listops(expression):
        if token not in LISTOPS_TOKEN_IDS:
            raise ValueError(f"unknown token {token!r}")
        ids.append(LISTOPS_TOKEN_IDS[token])
    if not ids:
        raise ValueError("empty expression")
    return ids, label
