"""`spt.md` / `spt.csv`: every self-pretrained row beside its twin trained from scratch (the
same attention, form, protocol and tag, `pretrain` unset), per task: test accuracy, the
difference, the time each took (pretraining counted), and how peaked the attention is after
pretraining and after training (attention_diagnostics, mean over layers and seeds), which
says whether pretraining made an attention less uniform. Written only when some run of the
profile was self-pretrained."""

from __future__ import annotations

import pandas as pd

from .cells import CellStats, accuracy_cell, accuracy_cells
from .document import Cell, Document, Table
from .format import mean, num, py
from .load import Runs, column_sort_key, column_title
from .variants import variant_label, variant_sort_key

SPT_COLUMNS = ("column", "label", "twin", "objective", "scratch_mean", "scratch_std", "scratch_n", "spt_mean",
               "spt_std", "spt_n", "difference", "scratch_train_s", "spt_pretrain_s", "spt_train_s",
               "pretrain_token_accuracy", "entropy_scratch", "entropy_after_pretraining", "entropy_spt",
               "spread_scratch", "spread_after_pretraining", "spread_spt")
PRETRAIN = -1  # the variant tuple's last entry (variants.Variant)


def twin_of(variant: tuple) -> tuple:
    return (*variant[:PRETRAIN], None)


def has_spt(runs: Runs) -> bool:
    return bool(runs.frame["pretrain"].notna().any()) if "pretrain" in runs.frame else False


def layer_mean(diagnostics, stage: str, key: str) -> float | None:
    """The mean over layers of `key` in a summary's attention_diagnostics[stage]."""
    layers = (diagnostics or {}).get(stage) if isinstance(diagnostics, dict) else None
    values = [layer.get(key) for layer in layers or [] if isinstance(layer, dict)]
    values = [v for v in values if isinstance(v, (int, float))]
    return sum(values) / len(values) if values else None


def _completed(stats: CellStats | None) -> list[dict]:
    return [r for r in (stats.records if stats else []) if r.get("status") == "completed"]


def _seconds(records: list[dict], key: str) -> float | None:
    return mean(py(r.get(key)) for r in records)


def spt_frame(runs: Runs) -> pd.DataFrame:
    cells = accuracy_cells(runs)
    variants = sorted({v for v, _ in cells}, key=variant_sort_key)
    out = []
    for (variant, column), stats in sorted(cells.items(), key=lambda c: (column_sort_key(c[0][1]),
                                                                          variant_sort_key(c[0][0]))):
        if variant[PRETRAIN] is None:
            continue
        twin = cells.get((twin_of(variant), column))
        spt_runs, scratch_runs = _completed(stats), _completed(twin)

        def diag(records, stage, key):
            return mean(layer_mean(r.get("attention_diagnostics"), stage, key) for r in records)

        out.append({
            "column": column, "label": variant_label(variant, variants),
            "twin": variant_label(twin_of(variant), variants), "objective": variant[PRETRAIN],
            "scratch_mean": twin.mean if twin else None, "scratch_std": twin.std if twin else None,
            "scratch_n": twin.n if twin else 0, "spt_mean": stats.mean, "spt_std": stats.std, "spt_n": stats.n,
            "difference": (stats.mean - twin.mean) if twin and twin.n and stats.n else None,
            "scratch_train_s": _seconds(scratch_runs, "train_seconds"),
            "spt_pretrain_s": _seconds(spt_runs, "pretrain_seconds"),
            "spt_train_s": _seconds(spt_runs, "train_seconds"),
            "pretrain_token_accuracy": mean(py((r.get("pretraining") or {}).get("token_accuracy"))
                                            for r in spt_runs if isinstance(r.get("pretraining"), dict)),
            "entropy_scratch": diag(scratch_runs, "after_training", "entropy"),
            "entropy_after_pretraining": diag(spt_runs, "after_pretraining", "entropy"),
            "entropy_spt": diag(spt_runs, "after_training", "entropy"),
            "spread_scratch": diag(scratch_runs, "after_training", "output_spread"),
            "spread_after_pretraining": diag(spt_runs, "after_pretraining", "output_spread"),
            "spread_spt": diag(spt_runs, "after_training", "output_spread"),
            "_stats": stats, "_twin": twin})
    return pd.DataFrame(out, columns=[*SPT_COLUMNS, "_stats", "_twin"])


def spt_report(runs: Runs, profile: str) -> tuple[Document, pd.DataFrame]:
    frame = spt_frame(runs)
    doc = Document(f"Self-pretraining beside training from scratch, profile `{profile}`")
    doc.paragraph(
        "Each self-pretrained row (`+spt-mlm`: masked tokens; `+spt-lm`: next tokens, causal rows "
        "only; pretrained on the task's own training inputs, no labels, then fine-tuned as usual) "
        "beside its twin trained from scratch. Test accuracy (%) of the best-validation checkpoint, "
        "mean ± sample std over seeds (n); Δ: self-pretrained minus from scratch, in points. "
        "Seconds per run, mean over seeds: from scratch and the fine-tuning, seconds in training "
        "batches (validation excluded); the pretraining, the wall time of its fit (its validations "
        "included); a self-pretrained run costs the sum. Token acc.: the pretraining's last "
        "validation, share of masked (or next) tokens predicted.")
    doc.paragraph(
        "Attention after training (and after pretraining), on a probe of two validation examples, "
        "mean over layers and seeds: entropy of each query's weights relative to uniform's (1: "
        "uniform, every key weighted alike) and output spread (how much the attention's output "
        "varies across positions, relative to the values'; near 0: every position gets the same "
        "average). Lower entropy and a larger spread mean a less uniform attention.")
    for column in sorted(set(frame["column"]), key=column_sort_key):
        part = frame[frame["column"] == column]
        doc.heading(column_title(column), level=2)
        rows = []
        for _, r in part.iterrows():
            scratch = accuracy_cell(doc, r["_twin"], column) if r["_twin"] is not None else Cell("not run")
            rows.append([Cell(r["twin"]), scratch, accuracy_cell(doc, r["_stats"], column),
                         Cell(num(py(r["difference"]), "{:+.2f}", "—")),
                         Cell(num(py(r["scratch_train_s"]), "{:,.0f}", "—")),
                         Cell(num(py(r["spt_pretrain_s"]), "{:,.0f}", "—") + " + "
                              + num(py(r["spt_train_s"]), "{:,.0f}", "—")),
                         Cell(num(py(r["pretrain_token_accuracy"]), "{:.3f}", "—")), Cell(str(r["objective"]))])
        doc.table(Table(["row", "from scratch", "self-pretrained", "Δ", "train s (scratch)",
                         "train s (pretrain + fine-tune)", "token acc.", "objective"], rows, "lllrrrrl",
                        caption=f"From scratch and self-pretrained, {column_title(column)}, profile {profile}"))
        rows = [[Cell(r["twin"]), *(Cell(num(py(r[k]), "{:.3f}", "—")) for k in (
            "entropy_scratch", "entropy_after_pretraining", "entropy_spt", "spread_scratch",
            "spread_after_pretraining", "spread_spt"))] for _, r in part.iterrows()]
        doc.table(Table(["row", "entropy: scratch", "after pretraining", "self-pretrained, fine-tuned",
                         "spread: scratch", "after pretraining", "self-pretrained, fine-tuned"], rows,
                        "lrrrrrr", caption=f"Attention uniformity, {column_title(column)}, profile {profile}"))
    return doc, frame.drop(columns=["_stats", "_twin"])
