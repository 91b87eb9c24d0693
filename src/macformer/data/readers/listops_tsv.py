"""ListOps TSV (`Source\tTarget` header, `<expression>\t<value>` rows), read as LRA
does: `]` becomes its own token, `(` and `)` are dropped, tokens split on whitespace."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tasks import LISTOPS_TOKEN_IDS, MalformedDataError
from .stats import ReadStats

HEADER = ["Source", "Target"]
BATCH = 1000


def tokenize_listops(expression: str, closing_tokens: bool = True) -> list[str]:
    """LRA's tokens; closing_tokens=False drops `]` too, as the tokenised ListOps of the
    Skyformer port (used by the Macformer authors) did: its alphanumeric tokenizer kept
    only `MIN`, `MAX`, `MED`, `SM` and the digits (the `[` prefix is dropped as well, which
    changes only the spelling, not the ids here)."""
    tokens = expression.replace("(", " ").replace(")", " ").split()
    return tokens if closing_tokens else [t for t in tokens if t != "]"]


def read_listops(path, max_tokens: int, stats: ReadStats, skip_malformed: bool = False,
                 closing_tokens: bool = True):
    path = Path(path)
    batch = {"input_ids": [], "label": []}
    # Bytes, decoded line by line, so a byte that is not UTF-8 is reported with its line.
    with open(path, "rb") as f:
        header = _decode(f.readline(), path, 1).rstrip("\r\n").split("\t")
        if header != HEADER:
            raise MalformedDataError(f"{path}:1: expected the header 'Source\\tTarget', got {header!r}")
        for line_no, raw in enumerate(f, start=2):
            try:
                line = _decode(raw, path, line_no).rstrip("\r\n")
                if not line.strip():
                    continue
                ids, label = _parse_row(line, closing_tokens)
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


def _decode(raw: bytes, path: Path, line_no: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start]
        message = (f"byte 0x{byte:02x} at column {error.start + 1} is not UTF-8 (the file is damaged or "
                   f"not a ListOps TSV); fix that line or regenerate the file")
        if line_no == 1:
            raise MalformedDataError(f"{path}:1: {message}") from None
        raise ValueError(message) from None


def _parse_row(line: str, closing_tokens: bool = True):
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
    for token in tokenize_listops(expression, closing_tokens):
        if token not in LISTOPS_TOKEN_IDS:
            raise ValueError(f"unknown token {token!r}")
        ids.append(LISTOPS_TOKEN_IDS[token])
    if not ids:
        raise ValueError("empty expression")
    return ids, label
