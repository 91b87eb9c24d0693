"""The three tables: accuracy, efficiency, and ours beside the published numbers.

Each builder returns a `Document` (rendered to Markdown / LaTeX) and a DataFrame
(written as CSV). Rows are variants (attention × kernel × ppSBN, and the number of
features when a sweep varies it) of one profile; seeds are averaged within a row.
Every cell says what it is: a number, `failed`, `interrupted`, `missing` (data
absent) or `not run` — never an empty cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .document import Cell, Document, Table
from .load import (
    COMPLETED,
    INTERRUPTED,
    LRA_TASKS,
    MISSING,
    TASK_TITLES,
    VARIANT_KEY,
    Runs,
    profile_sort_key,
    task_columns,
    variant_sort_key,
)
from .published import published_accuracy, published_efficiency, published_matches, published_value

Variant = tuple  # (profile, attention, kernel, ppsbn, num_features), see VARIANT_KEY

# ------------------------------------------------------------------ per-cell statistics


@dataclass
class CellStats:
    """The runs of one variant on one task."""

    accuracies: list[float] = field(default_factory=list)  # test accuracy (%) of completed runs
    failed: list[dict] = field(default_factory=list)  # failed or interrupted runs
    missing: list[dict] = field(default_factory=list)  # runs skipped because data was absent

    @property
    def n(self) -> int:
        return len(self.accuracies)

    @property
    def mean(self) -> float | None:
        return sum(self.accuracies) / self.n if self.n else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (None for a single seed)."""
        if self.n < 2:
            return None
        m = self.mean
        return math.sqrt(sum((a - m) ** 2 for a in self.accuracies) / (self.n - 1))

    @property
    def status(self) -> str:
        if self.n:
            return "partial" if self.failed else "ok"
        if self.failed:
            statuses = {r["status"] for r in self.failed}
            return INTERRUPTED if statuses == {INTERRUPTED} else "failed"
        return MISSING if self.missing else "not run"


def variant_of(row) -> Variant:
    return tuple(_py(row[k]) for k in VARIANT_KEY)


def accuracy_cells(runs: Runs) -> dict[tuple[Variant, str], CellStats]:
    cells: dict[tuple[Variant, str], CellStats] = {}
    for _, row in runs.frame.iterrows():
        stats = cells.setdefault((variant_of(row), row["task"]), CellStats())
        record = {k: _py(v) for k, v in row.items()}
        if row["status"] == COMPLETED and record["test_accuracy"] is not None:
            stats.accuracies.append(100.0 * record["test_accuracy"])
        elif row["status"] == COMPLETED:
            stats.failed.append({**record, "error": "completed without a test accuracy"})
        elif row["status"] == MISSING:
            stats.missing.append(record)
        else:
            stats.failed.append(record)
    return cells


def variants_by_profile(runs: Runs) -> dict[str, list[Variant]]:
    variants = {variant_of(row) for _, row in runs.frame.iterrows()}
    out: dict[str, list[Variant]] = {}
    for v in sorted(variants, key=lambda v: (profile_sort_key(v[0]), variant_sort_key(*v[1:]))):
        out.setdefault(v[0], []).append(v)
    return out


def average(cells, variant: Variant) -> tuple[float | None, int]:
    """Mean over the five LRA tasks of the per-task means (Path-X excluded, as in the
    LRA paper), and how many of the five had a result."""
    means = [cells[(variant, t)].mean for t in LRA_TASKS
             if (variant, t) in cells and cells[(variant, t)].n]
    return (sum(means) / len(means) if means else None), len(means)


# ------------------------------------------------------------------------ labels


def variant_columns(variants: list[Variant]) -> list[str]:
    cols = ["attention", "kernel", "ppSBN"]
    return cols + (["D"] if _features_vary(variants) else [])


def variant_cells(variant: Variant, variants: list[Variant]) -> list[Cell]:
    _, attention, kernel, ppsbn, num_features = variant
    cells = [Cell(attention), Cell(kernel or "—"),
             Cell("—" if ppsbn is None else ("yes" if ppsbn else "no"))]
    if _features_vary(variants):
        cells.append(Cell("—" if num_features is None else str(num_features)))
    return cells


def variant_label(variant: Variant, variants: list[Variant] | None = None) -> str:
    """Short name for plots and prose: `rmfa exp`, `rmfa exp no-ppSBN`, `rfa D=64`."""
    _, attention, kernel, ppsbn, num_features = variant
    parts = [attention] + ([kernel] if kernel else []) + (["no-ppSBN"] if ppsbn is False else [])
    if variants is not None and _features_vary(variants) and num_features is not None:
        parts.append(f"D={num_features}")
    return " ".join(parts)


def _features_vary(variants: list[Variant]) -> bool:
    seen: dict[tuple, set] = {}
    for v in variants:
        seen.setdefault(v[:4], set()).add(v[4])
    return any(len(s) > 1 for s in seen.values())


# ------------------------------------------------------------------- accuracy


def accuracy_report(runs: Runs) -> tuple[Document, pd.DataFrame]:
    cells = accuracy_cells(runs)
    tasks = task_columns(runs.frame["task"]) if not runs.frame.empty else list(LRA_TASKS)
    doc = Document("Accuracy on the Long Range Arena")
    doc.paragraph(
        "Test accuracy (%) of the best-validation checkpoint, mean ± sample standard deviation "
        "over seeds; n = number of seeds that completed. Avg = mean over the five LRA tasks "
        "(Path-X excluded, as in the LRA paper); `(k/5 tasks)` marks an average over fewer "
        "tasks, which is not comparable with a full one. `failed` / `interrupted`: no seed "
        "finished (the note gives the error); `+k failed`: some seeds failed and the number "
        "is over the rest; `missing`: the task's data was absent (the note says how to fetch "
        "it); `not run`: the sweep did not include this cell.")
    csv_rows = []
    for profile, variants in variants_by_profile(runs).items():
        doc.heading(f"Profile `{profile}`")
        columns = variant_columns(variants) + [TASK_TITLES.get(t, t) for t in tasks] + ["Avg"]
        rows = []
        for variant in variants:
            row = variant_cells(variant, variants)
            csv_row = dict(zip(VARIANT_KEY, variant, strict=True))
            for task in tasks:
                stats = cells.get((variant, task), CellStats())
                row.append(_accuracy_cell(doc, stats, task, variant))
                csv_row.update({
                    f"{task}_mean": _round(stats.mean), f"{task}_std": _round(stats.std),
                    f"{task}_seeds": stats.n, f"{task}_failed": len(stats.failed),
                    f"{task}_status": stats.status})
            avg, k = average(cells, variant)
            row.append(Cell(_avg_text(avg, k)))
            csv_row.update({"average": _round(avg), "average_tasks": k})
            rows.append(row)
            csv_rows.append(csv_row)
        doc.table(Table(columns, rows, "l" * (len(columns) - len(tasks) - 1) + "r" * (len(tasks) + 1),
                        caption=f"LRA test accuracy (%), profile {profile}: mean ± std over seeds"))
    _problems_paragraph(doc, runs)
    return doc, pd.DataFrame(csv_rows)


def _accuracy_cell(doc: Document, stats: CellStats, task: str, variant: Variant) -> Cell:
    if stats.n:
        text = f"{stats.mean:.2f}" + (f" ± {stats.std:.2f}" if stats.std is not None else "")
        text += f" (n={stats.n})"
        if stats.failed:
            text += f" +{len(stats.failed)} failed"
            return Cell(text, _failure_notes(doc, stats.failed))
        return Cell(text)
    if stats.failed:
        return Cell(stats.status, _failure_notes(doc, stats.failed))
    if stats.missing:
        return Cell(MISSING, tuple(sorted({doc.note(_missing_text(task, r)) for r in stats.missing})))
    return Cell("not run")


def _failure_notes(doc: Document, failed: list[dict]) -> tuple[int, ...]:
    notes = set()
    for r in sorted(failed, key=lambda r: r["path"]):
        seed = "" if r.get("seed") is None else f", seed {r['seed']}"
        notes.add(doc.note(f"{r['status']}{seed}: {error_line(r.get('error'))} "
                           f"(`{r['path']}`)"))
    return tuple(sorted(notes))


def _missing_text(task: str, record: dict) -> str:
    detail = error_line(record.get("error"), default=f"no data for {task}")
    return f"{TASK_TITLES.get(task, task)} data missing: {detail}"


def error_line(error: object, default: str = "no error message recorded", limit: int = 300) -> str:
    """The line of an error worth showing: the last non-empty one (a traceback's exception)."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    if not lines:
        return default
    text = lines[-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _avg_text(avg: float | None, k: int) -> str:
    if avg is None:
        return "n/a (0/5 tasks)"
    return f"{avg:.2f}" if k == len(LRA_TASKS) else f"{avg:.2f} ({k}/5 tasks)"


def _problems_paragraph(doc: Document, runs: Runs) -> None:
    if runs.problems:
        listed = "; ".join(f"`{p.path}` ({p.reason})" for p in runs.problems)
        doc.paragraph(f"{len(runs.problems)} summary file(s) could not be read and are not "
                      f"in the tables: {listed}.")
    if runs.frame.empty:
        doc.paragraph("No run summaries were found.")


# ----------------------------------------------------------------- efficiency


EFFICIENCY_COLUMNS = ("profile", "task", "device", "seq_len", "batch_size", *VARIANT_KEY[1:],
                      "seeds", "tokens_per_second", "steps_per_second", "speedup_vs_softmax",
                      "peak_memory_mb", "memory_vs_softmax")


def efficiency_frame(runs: Runs) -> pd.DataFrame:
    """Mean speed and memory per (profile, task, device, length, batch, variant) over
    completed runs, with the ratios to softmax of the same profile, task, device, length
    and batch size (the only fair comparison)."""
    groups: dict[tuple, list[dict]] = {}
    for _, r in runs.frame[runs.frame["status"] == COMPLETED].iterrows():
        setting = (r["profile"], r["task"], _py(r["device"]) or "unknown device",
                   _py(r["seq_len"]), _py(r["batch_size"]))
        groups.setdefault((setting, variant_of(r)[1:]), []).append(
            {k: _py(r[k]) for k in ("train_tokens_per_second", "train_steps_per_second",
                                    "peak_memory_mb")})
    out = []
    for (setting, variant), members in groups.items():
        out.append({**dict(zip(EFFICIENCY_COLUMNS[:5], setting, strict=True)),
                    **dict(zip(VARIANT_KEY[1:], variant, strict=True)), "seeds": len(members),
                    "tokens_per_second": _mean(m["train_tokens_per_second"] for m in members),
                    "steps_per_second": _mean(m["train_steps_per_second"] for m in members),
                    "peak_memory_mb": _mean(m["peak_memory_mb"] for m in members)})
    softmax = {tuple(r[k] for k in EFFICIENCY_COLUMNS[:5]): r for r in out
               if r["attention"] == "softmax"}
    for r in out:
        base = softmax.get(tuple(r[k] for k in EFFICIENCY_COLUMNS[:5]), {})
        r["speedup_vs_softmax"] = _ratio(r["tokens_per_second"], base.get("tokens_per_second"))
        r["memory_vs_softmax"] = _ratio(r["peak_memory_mb"], base.get("peak_memory_mb"))
    out.sort(key=lambda r: (profile_sort_key(r["profile"]), _task_order(r["task"]), r["device"],
                            r["seq_len"] or 0, r["batch_size"] or 0,
                            variant_sort_key(*(r[k] for k in VARIANT_KEY[1:]))))
    return pd.DataFrame(out, columns=list(EFFICIENCY_COLUMNS)).astype(
        {k: object for k in ("seq_len", "batch_size", "kernel", "ppsbn", "num_features")})


def efficiency_report(runs: Runs) -> tuple[Document, pd.DataFrame]:
    frame = efficiency_frame(runs)
    doc = Document("Training speed and memory")
    doc.paragraph(
        "Completed runs only (failed and missing ones are listed in `accuracy.md`), mean over "
        "seeds, first steps excluded. tokens/s: training positions (batch × padded length) "
        "per second; × softmax: tokens/s divided by softmax's on the same task, profile and device "
        "(above 1 = faster); peak MB: peak memory of the training run as its summary records "
        "it (on a GPU the peak allocated by torch; on a CPU the process's peak resident "
        "memory); mem × softmax: peak MB divided by softmax's (below 1 = less memory). Ratios "
        "compare runs of the same task, profile, device, length and batch size; a ratio is "
        "`n/a` when softmax did not complete under the same setting. length: tokens per "
        "sequence (per document for Retrieval); batch: examples per step and process.")
    all_variants = [variant_of(r) for _, r in frame.iterrows()]
    for profile in sorted(set(frame["profile"]), key=profile_sort_key):
        doc.heading(f"Profile `{profile}`")
        part = frame[frame["profile"] == profile]
        variants = [v for v in all_variants if v[0] == profile]
        for task in sorted(set(part["task"]), key=_task_order):
            doc.heading(TASK_TITLES.get(task, task), level=3)
            rows = []
            for _, r in part[part["task"] == task].iterrows():
                rows.append(variant_cells(variant_of(r), variants) + [
                    Cell(_num(r["seq_len"], "{:,}", "—")), Cell(_num(r["batch_size"], "{}", "—")),
                    Cell(_num(r["tokens_per_second"], "{:,.0f}")),
                    Cell(_num(r["speedup_vs_softmax"], "{:.2f}×", "n/a")),
                    Cell(_num(r["peak_memory_mb"], "{:,.0f}")),
                    Cell(_num(r["memory_vs_softmax"], "{:.2f}×", "n/a")),
                    Cell(str(r["device"])), Cell(str(r["seeds"]))])
            columns = variant_columns(variants) + [
                "length", "batch", "tokens/s", "× softmax", "peak MB", "mem × softmax", "device",
                "seeds"]
            n_var = len(columns) - 8
            doc.table(Table(columns, rows, "l" * n_var + "rrrrrrlr",
                            caption=f"Training speed and peak memory, {TASK_TITLES.get(task, task)}, "
                                    f"profile {profile}"))
    if frame.empty:
        doc.paragraph("No completed runs.")
    return doc, frame


# ------------------------------------------------------------------ published


def published_report(runs: Runs) -> tuple[Document, pd.DataFrame]:
    cells = accuracy_cells(runs)
    pub = published_accuracy()
    matches = published_matches()
    has_pathx = "pathx" in set(runs.frame["task"]) if not runs.frame.empty else False
    tasks = [*LRA_TASKS, *(["pathx"] if has_pathx else [])]
    doc = Document("Ours beside the published LRA numbers")
    doc.paragraph(
        "**Published numbers are copied from the papers, not measured here** (data and "
        "sources: `src/macformer/report/published_lra.csv`). Each cell reads "
        "`ours / published (Δ ours − published, in points)`; ours is the mean test accuracy "
        "(%) over seeds (spread and seed counts in `accuracy.md`). Only rows with a "
        "counterpart are shown: softmax ↔ Transformer / softmax; performer ↔ Performer; "
        "rfa ↔ Performer (an approximate match: both are random-feature approximations of "
        "softmax, with different features); kernelized ↔ Skyformer's kernelized attention "
        "(exact, but with a Gaussian kernel where ours uses a Maclaurin kernel). The LRA "
        "paper used its own, larger models; the Nyströmformer and Skyformer ports use the "
        "model of this harness. The Linear Transformer row of the LRA paper has no "
        "counterpart here. `n/r`: not reported.")
    csv_rows = []
    for profile, variants in variants_by_profile(runs).items():
        rows = []
        for variant in variants:
            for _, m in matches[matches["attention"] == variant[1]].iterrows():
                for _, p in pub[pub["model"] == m["published_model"]].iterrows():
                    row = variant_cells(variant, variants) + [
                        Cell(p["model"]), Cell(p["source"]), Cell(m["match"])]
                    for task in [*tasks, "average"]:
                        ours, ours_status = _ours(cells, variant, task)
                        published = p[task] if task in p else ""
                        row.append(Cell(_pair_text(ours, ours_status, published)))
                        value = published_value(published)
                        csv_rows.append({
                            **dict(zip(VARIANT_KEY, variant, strict=True)),
                            "published_source": p["source"], "published_model": p["model"],
                            "match": m["match"], "task": task, "ours": _round(ours),
                            "ours_status": ours_status, "published": published or "n/r",
                            "delta": _round(None if ours is None or value is None else ours - value)})
                    rows.append(row)
        if not rows:
            continue
        doc.heading(f"Profile `{profile}`")
        if profile != "paper":
            doc.paragraph(f"The `{profile}` profile does not follow the published protocol "
                          "(shorter training, see the README); its differences are not "
                          "expected to be small.")
        columns = variant_columns(variants) + ["published model", "published source", "match"] + [
            TASK_TITLES.get(t, t) for t in tasks] + ["Avg"]
        n_left = len(columns) - len(tasks) - 1
        doc.table(Table(columns, rows, "l" * n_left + "r" * (len(tasks) + 1),
                        caption=f"Ours (profile {profile}) / published test accuracy (%) "
                                "and the difference in points"))
    if not csv_rows:
        doc.paragraph("No run of ours has a published counterpart yet.")
    _published_efficiency(doc, runs)
    return doc, pd.DataFrame(csv_rows, columns=[
        *VARIANT_KEY, "published_source", "published_model", "match", "task", "ours",
        "ours_status", "published", "delta"])


def _ours(cells, variant: Variant, task: str) -> tuple[float | None, str]:
    if task == "average":
        avg, k = average(cells, variant)
        return (avg, "ok") if k == len(LRA_TASKS) else (None, f"{k}/5 tasks")
    stats = cells.get((variant, task), CellStats())
    return stats.mean, stats.status


def _pair_text(ours: float | None, status: str, published: str) -> str:
    left = f"{ours:.2f}" if ours is not None else (
        f"n/a ({status})" if status.endswith("tasks") else status)
    right = published or "n/r"
    value = published_value(published)
    delta = f" (Δ {ours - value:+.2f})" if ours is not None and value is not None else ""
    return f"{left} / {right}{delta}"


def _published_efficiency(doc: Document, runs: Runs) -> None:
    eff = published_efficiency()
    matches = published_matches()
    doc.heading("Efficiency, published (LRA paper Table 2)")
    doc.paragraph("Text task, batch 32, TPU v3, JAX; the speed-up and memory ratio are "
                  "Performer over Transformer at each length. Our measured ratios (Text task, "
                  "`efficiency.md`) follow for performer and rfa, on our device.")
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
    ours = ours[(ours["task"] == "text") & ours["attention"].isin(compared)]
    for _, r in ours.iterrows():
        rows.append([Cell(f"ours: {variant_label(variant_of(r))} ({r['profile']})"),
                     Cell("—"), Cell(str(r["device"])), Cell("—"),
                     Cell(_num(r["speedup_vs_softmax"], "{:.2f}×", "n/a")), Cell("—"),
                     Cell(_num(r["memory_vs_softmax"], "{:.2f}×", "n/a"))])
    doc.table(Table(["model", "length", "device", "steps/s (Transformer / model)", "speed-up",
                     "peak GB (Transformer / model)", "memory ratio"], rows, "lrlrrrr",
                    caption="Published efficiency (LRA paper Table 2, Text, TPU v3) and ours"))


# -------------------------------------------------------------------- helpers


def _py(value):
    """pandas' NaN/NA as None, numpy scalars as Python ones."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _ratio(a, b) -> float | None:
    a, b = _py(a), _py(b)
    return a / b if a is not None and b else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _num(value, fmt: str, missing: str = "not recorded") -> str:
    value = _py(value)
    return missing if value is None else fmt.format(value)


def _task_order(task: str) -> tuple:
    order = [*LRA_TASKS, "pathx"]
    return (order.index(task) if task in order else len(order), task)
