"""Ours beside the published LRA numbers, for one profile: only columns on LRA data are
compared (a reduced or generated data set never is), and the published efficiency
table (LRA paper Table 2) beside our measured ratios."""

from __future__ import annotations

import pandas as pd

from .cells import CellStats, accuracy_cells, average
from .document import Cell, Document, Table
from .efficiency_table import efficiency_frame
from .format import num, rounded
from .load import LRA_DATA, LRA_TASKS, TASK_TITLES, VARIANT_KEY, Runs, column_dataset, column_task
from .published import published_accuracy, published_efficiency, published_matches, published_value
from .variants import Variant, variant_dict, variant_label, variants_of

NOT_LRA = "not LRA data"

INTRO = (
    "**Published numbers are copied from the papers, not measured here** (data and "
    "sources: `src/macformer/report/published_lra.csv`). Each cell reads "
    "`ours / published (Δ ours − published, in points)`; ours is the mean test accuracy "
    "(%) over completed seeds (spread, seed counts, stopped runs and chance flags in "
    "`accuracy.md`). Only rows with a counterpart are shown: softmax ↔ Transformer / softmax; "
    "performer ↔ Performer; rfa ↔ Performer (an approximate match: both are random-feature "
    "approximations of softmax, with different features); kernelized ↔ Skyformer's "
    "kernelized attention (exact, but with a Gaussian kernel where ours uses a Maclaurin "
    "kernel). The published models are non-causal encoders: a row marked `(causal)` differs "
    "from its counterpart in that too. The LRA paper used its own, larger models; the "
    "Nyströmformer and Skyformer ports use the model of this harness. The Linear Transformer "
    "row of the LRA paper has no counterpart here. `n/r`: not reported; `" + NOT_LRA + "`: "
    "our runs of that task used another data set (see `accuracy.md`), so no comparison is made.")


def published_report(runs: Runs, profile: str) -> tuple[Document, pd.DataFrame]:
    cells = accuracy_cells(runs)
    pub, matches = published_accuracy(), published_matches()
    columns = sorted(set(runs.frame["column"])) if not runs.frame.empty else []
    has_pathx = any(column_task(c) == "pathx" for c in columns)
    tasks = [*LRA_TASKS, *(["pathx"] if has_pathx else [])]
    doc = Document(f"Ours beside the published LRA numbers, profile `{profile}`")
    doc.paragraph(INTRO)
    if profile != "paper":
        doc.paragraph(f"The `{profile}` profile does not follow the published protocol "
                      "(shorter training, see the README); its differences are not "
                      "expected to be small.")
    variants = variants_of(runs)
    rows, csv_rows = [], []
    for variant in variants:
        for _, m in matches[matches["attention"] == variant[1]].iterrows():
            for _, p in pub[pub["model"] == m["published_model"]].iterrows():
                row = [Cell(variant_label(variant, variants)), Cell(p["model"]),
                       Cell(p["source"]), Cell(m["match"])]
                for task in [*tasks, "average"]:
                    ours, ours_status = _ours(cells, variant, task, columns)
                    published = p[task] if task in p else ""
                    row.append(Cell(_pair_text(ours, ours_status, published)))
                    value = published_value(published)
                    csv_rows.append({
                        **variant_dict(variant), "published_source": p["source"],
                        "published_model": p["model"], "match": m["match"], "task": task,
                        "ours": rounded(ours), "ours_status": ours_status,
                        "published": published or "n/r",
                        "delta": rounded(None if ours is None or value is None else ours - value)})
                rows.append(row)
    if rows:
        titles = ["variant", "published model", "published source", "match"] + [
            TASK_TITLES.get(t, t) for t in tasks] + ["Avg"]
        doc.table(Table(titles, rows, "llll" + "r" * (len(tasks) + 1),
                        caption=f"Ours (profile {profile}) / published test accuracy (%) "
                                "and the difference in points"))
    else:
        doc.paragraph("No run of ours has a published counterpart yet.")
    _published_efficiency(doc, runs)
    return doc, pd.DataFrame(csv_rows, columns=[
        *VARIANT_KEY, "published_source", "published_model", "match", "task", "ours",
        "ours_status", "published", "delta"])


def _ours(cells, variant: Variant, task: str, columns: list[str]) -> tuple[float | None, str]:
    lra_columns = [c for c in columns if column_dataset(c) == LRA_DATA]
    if task == "average":
        avg, k = average(cells, variant, lra_columns)
        return (avg, "ok") if k == len(LRA_TASKS) else (None, f"{k}/5 tasks")
    if (variant, task) in cells:  # the column of this task on LRA data
        stats = cells[(variant, task)]
        return stats.mean, stats.status
    if any(column_task(c) == task and (variant, c) in cells for c in columns):
        return None, NOT_LRA
    return None, CellStats().status


def _pair_text(ours: float | None, status: str, published: str) -> str:
    left = f"{ours:.2f}" if ours is not None else (
        f"n/a ({status})" if status.endswith("tasks") else status)
    right = published or "n/r"
    value = published_value(published)
    delta = f" (Δ {ours - value:+.2f})" if ours is not None and value is not None else ""
    return f"{left} / {right}{delta}"


def _published_efficiency(doc: Document, runs: Runs) -> None:
    eff, matches = published_efficiency(), published_matches()
    doc.heading("Efficiency, published (LRA paper Table 2)")
    doc.paragraph("Text task, batch 32, TPU v3, JAX; the speed-up and memory ratio are "
                  "Performer over Transformer at each length. Our measured ratios (Text task "
                  "on LRA data, `efficiency.md`) follow for performer and rfa, on our device.")
    rows = []
    base = eff[eff["model"] == "Transformer"].set_index("length")
    for _, r in eff[eff["model"] != "Transformer"].iterrows():
        b = base.loc[r["length"]]
        rows.append([Cell(r["model"]), Cell(f"{r['length']:,}"), Cell(r["device"]),
                     Cell(f"{b['steps_per_second']:.1f} / {r['steps_per_second']:.1f}"),
                     Cell(f"{r['steps_per_second'] / b['steps_per_second']:.2f}×"),
                     Cell(f"{b['peak_memory_gb']:.2f} / {r['peak_memory_gb']:.2f}"),
                     Cell(f"{r['peak_memory_gb'] / b['peak_memory_gb']:.2f}×")])
    ours = efficiency_frame(runs)
    compared = set(matches[matches["published_model"] == "Performer"]["attention"])
    ours = ours[(ours["column"] == "text") & ours["attention"].isin(compared)]
    for _, r in ours.iterrows():
        rows.append([Cell(f"ours: {r['label']} ({r['profile']})"),
                     Cell(num(r["seq_len"], "{:,}", "—")), Cell(str(r["device"])), Cell("—"),
                     Cell(num(r["speedup_vs_softmax"], "{:.2f}×", "n/a")), Cell("—"),
                     Cell(num(r["memory_vs_softmax"], "{:.2f}×", "n/a"))])
    doc.table(Table(["model", "length", "device", "steps/s (Transformer / model)", "speed-up",
                     "peak GB (Transformer / model)", "memory ratio"], rows, "lrlrrrr",
                    caption="Published efficiency (LRA paper Table 2, Text, TPU v3) and ours"))
