"""The efficiency table of one profile: training speed and peak memory per variant,
in absolute units (tokens/s, MiB) and as ratios to softmax on the same setting.

A setting includes the device and the environment (lifecycle.environment.one_line): a
row's mean is over seeds of one environment only, and a ratio is against softmax timed
in the same one. A task's table whose rows come from several devices or environments
shows which row is which (`env`) and marks its speed and memory columns as not
comparable, with a note naming the environments."""

from __future__ import annotations

import pandas as pd

from .document import Cell, Document, Table
from .format import mean, num, py, ratio
from .load import COMPLETED, STOPPED, VARIANT_KEY, Runs, column_sort_key, column_title
from .provenance import environment_labels, provenance_section
from .variants import variant_label, variant_of, variant_sort_key

SETTING = ("profile", "column", "device", "environment", "seq_len", "batch_size")
EFFICIENCY_COLUMNS = (*SETTING, *VARIANT_KEY[1:], "label", "seeds", "tokens_per_second",
                      "steps_per_second", "speedup_vs_softmax", "peak_memory_mb",
                      "memory_vs_softmax", "timed_steps", "path", "run_seconds", "pretrain_seconds")
# A rate timed over fewer training steps than this is mostly noise (and warm-up).
MIN_TIMED_STEPS = 5
FEW_STEPS_MARK = "(few steps)"


def timed_steps(record: dict) -> int | None:
    """Steps the rates were timed over: as recorded, else at most the steps done."""
    return record["throughput_steps"] if record["throughput_steps"] is not None else record["steps"]


def efficiency_frame(runs: Runs) -> pd.DataFrame:
    """Mean speed and memory per (profile, column, device, environment, length, batch,
    variant) over completed and stopped runs, with the ratios to softmax of the same
    profile, column, device, environment, length and batch size (the only fair comparison)."""
    groups: dict[tuple, list[dict]] = {}
    labels = environment_labels(runs.frame)
    for _, r in timed_runs(runs).iterrows():
        setting = (r["profile"], r["column"], py(r["device"]) or "unknown device", r["env"],
                   py(r["seq_len"]), py(r["batch_size"]))
        groups.setdefault((setting, variant_of(r)), []).append(
            {k: py(r.get(k)) for k in ("train_tokens_per_second", "train_steps_per_second",
                                       "peak_memory_mb", "throughput_steps", "steps", "attention_path",
                                       "train_seconds", "pretrain_seconds")})
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
                    "path": ", ".join(sorted({m["attention_path"] for m in members} - {None})) or "—",
                    # Training time of a run, its self-pretraining included (counted, not hidden).
                    "run_seconds": mean(run_seconds(m) for m in members),
                    "pretrain_seconds": mean(m["pretrain_seconds"] for m in members)})
    # The baseline: softmax on the same setting, the untagged LRA-protocol run first.
    softmax: dict[tuple, dict] = {}
    for r in sorted((r for r in out if r["attention"] == "softmax"),
                    key=lambda r: (r["tag"] is not None, r["protocol"] != "lra", r["pretrain"] is not None)):
        softmax.setdefault(tuple(r[k] for k in SETTING), r)
    for r in out:
        base = softmax.get(tuple(r[k] for k in SETTING), {})
        r["speedup_vs_softmax"] = ratio(r["tokens_per_second"], base.get("tokens_per_second"))
        r["memory_vs_softmax"] = ratio(r["peak_memory_mb"], base.get("peak_memory_mb"))
    out.sort(key=lambda r: (column_sort_key(r["column"]), r["device"],
                            int(labels[r["environment"]][1:]), r["seq_len"] or 0,
                            r["batch_size"] or 0,
                            variant_sort_key(tuple(r[k] for k in VARIANT_KEY))))
    return pd.DataFrame(out, columns=list(EFFICIENCY_COLUMNS)).astype(
        {k: object for k in ("seq_len", "batch_size", "kernel", "ppsbn", "num_features",
                             "causal", "tag", "pretrain")})


def run_seconds(member: dict) -> float | None:
    """Seconds in training batches, the self-pretraining's seconds added when there was one."""
    if member["train_seconds"] is None:
        return None
    return member["train_seconds"] + (member["pretrain_seconds"] or 0.0)


def timed_runs(runs: Runs) -> pd.DataFrame:
    """The runs the efficiency table is made of: completed and stopped ones."""
    return runs.frame[runs.frame["status"].isin([COMPLETED, STOPPED])]


def efficiency_report(runs: Runs, profile: str) -> tuple[Document, pd.DataFrame]:
    frame = efficiency_frame(runs)
    labels = environment_labels(runs.frame)
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
        f"{MIN_TIMED_STEPS} training steps (see its note) and are not a steady speed. train s: "
        "seconds in training batches per run (validation and data loading excluded), the "
        "self-pretraining's seconds included for a `+spt` row (its rates are the fine-tuning's).")
    for column in sorted(set(frame["column"]), key=column_sort_key):
        doc.heading(column_title(column), level=2)
        part = frame[frame["column"] == column]
        mixed = mixed_note(doc, part, labels)
        envs = len(set(part["environment"])) > 1  # which row is which (devices have a column)
        rows = []
        for _, r in part.iterrows():
            rows.append([
                Cell(r["label"]), Cell(num(r["seq_len"], "{:,}", "—")),
                Cell(num(r["batch_size"], "{}", "—")),
                _rate_cell(doc, r),
                Cell(num(r["speedup_vs_softmax"], "{:.2f}×", "n/a")),
                Cell(num(r["peak_memory_mb"], "{:,.0f}")),
                Cell(num(r["memory_vs_softmax"], "{:.2f}×", "n/a")),
                Cell(num(r["run_seconds"], "{:,.0f}", "—")),
                Cell(str(r["device"])),
                *([Cell(labels[r["environment"]])] if envs else []),
                Cell(str(r["path"])), Cell(str(r["seeds"]))])
        marks = (mixed,) if mixed else ()
        columns = ["variant", "length", "batch", *(Cell(c, marks) for c in MEASURES[:4]), "train s",
                   "device", *(["env"] if envs else []), "path", "seeds"]
        doc.table(Table(columns, rows, "lrrrrrrrl" + ("l" if envs else "") + "lr",
                        caption=f"Training speed and peak memory, {column_title(column)}, "
                                f"profile {profile}"))
    if frame.empty:
        doc.paragraph("No completed runs.")
    provenance_section(doc, timed_runs(runs), labels, profile, "timed in this file's tables")
    return doc, frame


MEASURES = ("tokens/s", "× softmax", "peak MiB", "mem × softmax")


def mixed_note(doc: Document, part: pd.DataFrame, labels: dict[str, str]) -> int | None:
    """The note marking a table's speed and memory columns as not comparable when its rows
    come from more than one device or environment, else None."""
    settings = sorted({(labels[e], d, e) for d, e in zip(part["device"], part["environment"],
                                                          strict=True)})
    if len(settings) < 2:
        return None
    where = "; ".join(f"{label} on {device}: {env} (rows: "
                      + ", ".join(sorted(set(part["label"][(part["environment"] == env)
                                                           & (part["device"] == device)])))
                      + ")" for label, device, env in settings)
    places = part.groupby("label")[["device", "environment"]].apply(
        lambda rows: len(set(zip(rows["device"], rows["environment"], strict=True))))
    split = sorted(label for label, n in places.items() if n > 1)
    return doc.note(
        f"not comparable across rows: tokens/s, peak MiB and the × softmax ratios of this table "
        f"come from {len(settings)} devices or environments — {where}. Each ratio is "
        "against softmax timed on the row's own device and environment, and a row's mean is "
        "over seeds of one environment only"
        + (f"; timed in several, not averaged: {', '.join(split)}" if split else "") + ".")


def _rate_cell(doc: Document, r) -> Cell:
    text, steps = num(r["tokens_per_second"], "{:,.0f}"), py(r["timed_steps"])
    if py(r["tokens_per_second"]) is None or steps is None or steps >= MIN_TIMED_STEPS:
        return Cell(text)
    note = doc.note(f"{FEW_STEPS_MARK}: timed over {steps} training step(s), fewer than "
                    f"{MIN_TIMED_STEPS} once the first ones are left out; a rate from so few "
                    "steps is mostly warm-up and noise.")
    return Cell(f"{text} {FEW_STEPS_MARK}", (note,))
