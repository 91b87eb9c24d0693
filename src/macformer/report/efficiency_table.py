"""The efficiency table of one profile: training speed and peak memory per variant,
in absolute units (tokens/s, MiB) and as ratios to softmax on the same setting."""

from __future__ import annotations

import pandas as pd

from .document import Cell, Document, Table
from .format import mean, num, py, ratio
from .load import COMPLETED, STOPPED, VARIANT_KEY, Runs, column_sort_key, column_title
from .variants import variant_label, variant_of, variant_sort_key

SETTING = ("profile", "column", "device", "seq_len", "batch_size")
EFFICIENCY_COLUMNS = (*SETTING, *VARIANT_KEY[1:], "label", "seeds", "tokens_per_second",
                      "steps_per_second", "speedup_vs_softmax", "peak_memory_mb",
                      "memory_vs_softmax", "timed_steps", "path")
# A rate timed over fewer training steps than this is mostly noise (and warm-up).
MIN_TIMED_STEPS = 5
FEW_STEPS_MARK = "(few steps)"


def timed_steps(record: dict) -> int | None:
    """Steps the rates were timed over: as recorded, else at most the steps done."""
    return record["throughput_steps"] if record["throughput_steps"] is not None else record["steps"]


def efficiency_frame(runs: Runs) -> pd.DataFrame:
    """Mean speed and memory per (profile, column, device, length, batch, variant) over
    completed and stopped runs, with the ratios to softmax of the same profile, column,
    device, length and batch size (the only fair comparison)."""
    groups: dict[tuple, list[dict]] = {}
    timed = runs.frame[runs.frame["status"].isin([COMPLETED, STOPPED])]
    for _, r in timed.iterrows():
        setting = (r["profile"], r["column"], py(r["device"]) or "unknown device",
                   py(r["seq_len"]), py(r["batch_size"]))
        groups.setdefault((setting, variant_of(r)), []).append(
            {k: py(r.get(k)) for k in ("train_tokens_per_second", "train_steps_per_second",
                                       "peak_memory_mb", "throughput_steps", "steps", "attention_path")})
    variants = sorted({v for _, v in groups}, key=variant_sort_key)
    out = []
    for (setting, variant), members in groups.items():
        out.append({**dict(zip(SETTING, setting, strict=True)),
                    **dict(zip(VARIANT_KEY, variant, strict=True)),
                    "label": variant_label(variant, variants), "seeds": len(members),
                    "tokens_per_second": mean(m["train_tokens_per_second"] for m in members),
                    "steps_per_second": mean(m["train_steps_per_second"] for m in members),
                    "peak_memory_mb": mean(m["peak_memory_mb"] for m in members),
                    "timed_steps": min((t for t in map(timed_steps, members) if t is not None),
                                       default=None),
                    # Which code path ran (rmfa: reference or triton), as the summaries record it.
                    "path": ", ".join(sorted({m["attention_path"] for m in members} - {None})) or "—"})
    # The baseline: softmax on the same setting, the untagged LRA-protocol run first.
    softmax: dict[tuple, dict] = {}
    for r in sorted((r for r in out if r["attention"] == "softmax"),
                    key=lambda r: (r["tag"] is not None, r["protocol"] != "lra")):
        softmax.setdefault(tuple(r[k] for k in SETTING), r)
    for r in out:
        base = softmax.get(tuple(r[k] for k in SETTING), {})
        r["speedup_vs_softmax"] = ratio(r["tokens_per_second"], base.get("tokens_per_second"))
        r["memory_vs_softmax"] = ratio(r["peak_memory_mb"], base.get("peak_memory_mb"))
    out.sort(key=lambda r: (column_sort_key(r["column"]), r["device"], r["seq_len"] or 0,
                            r["batch_size"] or 0,
                            variant_sort_key(tuple(r[k] for k in VARIANT_KEY))))
    return pd.DataFrame(out, columns=list(EFFICIENCY_COLUMNS)).astype(
        {k: object for k in ("seq_len", "batch_size", "kernel", "ppsbn", "num_features",
                             "causal", "tag")})


def efficiency_report(runs: Runs, profile: str) -> tuple[Document, pd.DataFrame]:
    frame = efficiency_frame(runs)
    doc = Document(f"Training speed and memory, profile `{profile}`")
    doc.paragraph(
        "Completed and stopped runs only (failed and missing ones are listed in "
        "`accuracy.md`), mean over seeds, first steps excluded. tokens/s: training positions "
        "(batch × padded length) per second; × softmax: tokens/s divided by softmax's on the "
        "same task, data, device, length and batch size (above 1 = faster); peak MiB: peak "
        "memory of the training run as its summary records it (on a GPU the peak allocated "
        "by torch; on a CPU the process's peak resident memory); mem × softmax: peak MiB "
        "divided by softmax's (below 1 = less memory). A ratio is `n/a` when softmax did not "
        "run under the same setting. length: tokens per sequence (per document for "
        "Retrieval); batch: examples per step and process; path: the code path the attention "
        "ran (rmfa: `reference` eager PyTorch or the fused `triton` kernels; — for attentions "
        f"with one path). `{FEW_STEPS_MARK}`: the rates were timed over fewer than "
        f"{MIN_TIMED_STEPS} training steps (see its note) and are not a steady speed.")
    for column in sorted(set(frame["column"]), key=column_sort_key):
        doc.heading(column_title(column), level=2)
        rows = []
        for _, r in frame[frame["column"] == column].iterrows():
            rows.append([
                Cell(r["label"]), Cell(num(r["seq_len"], "{:,}", "—")),
                Cell(num(r["batch_size"], "{}", "—")),
                _rate_cell(doc, r),
                Cell(num(r["speedup_vs_softmax"], "{:.2f}×", "n/a")),
                Cell(num(r["peak_memory_mb"], "{:,.0f}")),
                Cell(num(r["memory_vs_softmax"], "{:.2f}×", "n/a")),
                Cell(str(r["device"])), Cell(str(r["path"])), Cell(str(r["seeds"]))])
        columns = ["variant", "length", "batch", "tokens/s", "× softmax", "peak MiB",
                   "mem × softmax", "device", "path", "seeds"]
        doc.table(Table(columns, rows, "lrrrrrrllr",
                        caption=f"Training speed and peak memory, {column_title(column)}, "
                                f"profile {profile}"))
    if frame.empty:
        doc.paragraph("No completed runs.")
    return doc, frame


def _rate_cell(doc: Document, r) -> Cell:
    text, steps = num(r["tokens_per_second"], "{:,.0f}"), py(r["timed_steps"])
    if py(r["tokens_per_second"]) is None or steps is None or steps >= MIN_TIMED_STEPS:
        return Cell(text)
    note = doc.note(f"{FEW_STEPS_MARK}: timed over {steps} training step(s), fewer than "
                    f"{MIN_TIMED_STEPS} once the first ones are left out; a rate from so few "
                    "steps is mostly warm-up and noise.")
    return Cell(f"{text} {FEW_STEPS_MARK}", (note,))
