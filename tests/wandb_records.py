"""The records of an offline W&B run file (run-*.wandb: what `wandb sync` uploads), so the
tests read what a dashboard would receive rather than grep its bytes.

The file is a 7-byte header (":W&B", a 2-byte magic, a version byte), then LevelDB's log
format in 32 KiB blocks: each chunk is a 4-byte checksum, a 2-byte length, a type byte
(1 a whole record; 2, 3, 4 its first, middle and last parts) and the data; a block's tail
too short for a chunk header is padding. Each record is a `wandb_internal_pb2.Record`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

BLOCK, HEADER, CHUNK_HEADER = 32 * 1024, 7, 7
FULL, FIRST, LAST = 1, 2, 4


def records(path: Path) -> list:
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path}: not a W&B run file"
    out, parts, pos = [], [], HEADER
    while pos + CHUNK_HEADER <= len(data):
        room = BLOCK - pos % BLOCK
        _checksum, length, kind = struct.unpack("<IHB", data[pos:pos + CHUNK_HEADER])
        if room < CHUNK_HEADER or kind == 0:  # padding at the end of a block
            pos += room
            continue
        parts = [] if kind in (FULL, FIRST) else parts
        parts.append(data[pos + CHUNK_HEADER:pos + CHUNK_HEADER + length])
        pos += CHUNK_HEADER + length
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(b"".join(parts))
            out.append(record)
    return out


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


@dataclass
class OfflineRun:
    """What one offline run holds: its run record, config, last summary, the keys it logged
    as history, its metric definitions and the files it saved."""
    run: object
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    history_keys: set = field(default_factory=set)
    metrics: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


def read_offline_run(folder: Path) -> OfflineRun:
    """folder: a `wandb/offline-run-*` directory."""
    (path,) = Path(folder).glob("run-*.wandb")
    found = None
    config, summary, history, metrics, files = {}, {}, set(), {}, []
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            found = record.run
            config.update({_key(i): json.loads(i.value_json) for i in record.run.config.update})
        elif kind == "config":
            config.update({_key(i): json.loads(i.value_json) for i in record.config.update})
        elif kind == "summary":
            summary.update({_key(i): json.loads(i.value_json) for i in record.summary.update})
        elif kind == "history":
            history |= {_key(i) for i in record.history.item}
        elif kind == "metric" and record.metric.name:
            metrics[record.metric.name] = record.metric
        elif kind == "files":
            files += [f.path for f in record.files.files]
    assert found is not None, f"{path}: no run record"
    return OfflineRun(found, config, summary, history, metrics, files)
