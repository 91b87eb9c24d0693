"""AAN retrieval TSV: no header, five tab-separated columns
`label id1 id2 text1 text2`, the label written as a float (`1.0`). As in LRA each
text is cut at 10,000 bytes and then at the task's token cap."""

from __future__ import annotations

from pathlib import Path

from ..tasks import MalformedDataError
from .stats import ReadStats
from .tokens import byte_ids

RAW_TEXT_BYTES = 10_000
BATCH = 500


def read_aan(path, max_tokens: int, stats: ReadStats, skip_malformed: bool = False):
    path = Path(path)
    cap = min(RAW_TEXT_BYTES, max_tokens)
    batch = {"input_ids": [], "input_ids_pair": [], "label": []}
    # Bytes, not text: the caps are in bytes and no decoding is needed.
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            fields = line.split(b"\t")
            try:
                if len(fields) != 5:
                    raise ValueError(f"expected 5 tab-separated columns, got {len(fields)}")
                label = _label(fields[0])
            except ValueError as error:
                if skip_malformed:
                    stats.skip(f"{path}:{line_no}")
                    continue
                raise MalformedDataError(f"{path}:{line_no}: {error}") from None
            batch["input_ids"].append(byte_ids(fields[3], cap))
            batch["input_ids_pair"].append(byte_ids(fields[4], cap))
            batch["label"].append(label)
            if len(batch["label"]) == BATCH:
                yield batch
                batch = {"input_ids": [], "input_ids_pair": [], "label": []}
    if batch["label"]:
        yield batch


def _label(raw: bytes) -> int:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"label {raw.decode(errors='replace')!r} is not a number") from None
    if value not in (0.0, 1.0):
        raise ValueError(f"label {value} is not 0 or 1")
    return int(value)
