"""The accuracy table of one profile: one row per variant (its label names the
attention's form, protocol and tag), one column per task and data set, seeds averaged.
Every cell says what it is: a number (marked when at chance, or when some seeds
stopped or failed), `stopped`, `failed`, `interrupted`, `missing` or `not run`."""

from __future__ import annotations

import pandas as pd

from macformer.lifecycle.record import MISSING

from .cells import CHANCE_MARK, CellStats, accuracy_cell, accuracy_cells, average
from .document import Cell, Document, Table
from .format import rounded
from .load import LRA_DATA, LRA_TASKS, Runs, column_dataset, column_title, table_columns
from .provenance import environment_labels, provenance_section
from .variants import variant_dict, variant_label, variants_of

INTRO = (
    "Test accuracy (%) of the best-validation checkpoint, mean ± sample standard deviation "
    "over the seeds that completed (n). Rows name the attention's form: `(causal)` / "
    "`(non-causal)` for attentions that have both, `[protocol]` when not the LRA protocol, "
    "`#tag` for runs kept apart by a run tag. Avg = mean over the five LRA tasks on LRA data "
    "(Path-X and other data sets excluded); `(k/5 tasks)` marks an average over fewer tasks, "
    f"which is not comparable with a full one. `{CHANCE_MARK}`: not above chance (see its note). "
    "`stopped`: the run ended before its planned steps (a time limit, say) and its accuracy "
    "is not averaged with completed ones; `+k stopped` / `+k failed`: some seeds did not "
    "complete and the number is over the rest; `failed` / `interrupted`: no seed finished "
    "(the note gives the error and the steps done); `missing`: the task's data was absent "
    "(the note says how to fetch it); `not run`: the sweep did not include this cell."
)


def accuracy_report(runs: Runs, profile: str, *, no_curve: list[str] = ()
                    ) -> tuple[Document, pd.DataFrame]:
    cells = accuracy_cells(runs)
    columns = table_columns(runs.frame["column"]) if not runs.frame.empty else list(LRA_TASKS)
    variants = variants_of(runs)
    doc = Document(f"Accuracy on the Long Range Arena, profile `{profile}`")
    doc.paragraph(INTRO)
    other = [c for c in columns if column_dataset(c) != LRA_DATA]
    if other:
        doc.paragraph(
            "**Not LRA data:** " + ", ".join(column_title(c) for c in other) + " — the name in "
            "brackets is the data set the runs used (`data set not recorded`: a summary "
            "written before the field existed). These columns are not comparable with LRA "
            "results, are left out of Avg and are never set beside published numbers.")
    rows, csv_rows = [], []
    for variant in variants:
        label = variant_label(variant, variants)
        row = [Cell(label)]
        csv_row = {**variant_dict(variant), "label": label}
        for column in columns:
            stats = cells.get((variant, column), CellStats())
            row.append(accuracy_cell(doc, stats, column))
            chance = stats.chance(column)
            csv_row.update({
                f"{column}_mean": rounded(stats.mean), f"{column}_std": rounded(stats.std),
                f"{column}_seeds": stats.n, f"{column}_stopped": len(stats.stopped),
                f"{column}_failed": len(stats.failed), f"{column}_status": stats.status,
                f"{column}_chance": rounded(None if chance.p is None else 100 * chance.p),
                f"{column}_at_chance": chance.at_chance(stats.mean) if stats.n else None})
        avg, k = average(cells, variant, columns)
        row.append(Cell(_avg_text(avg, k)))
        csv_row.update({"average": rounded(avg), "average_tasks": k})
        rows.append(row)
        csv_rows.append(csv_row)
    titles = ["variant"] + [column_title(c) for c in columns] + ["Avg"]
    doc.table(Table(titles, rows, "l" + "r" * (len(columns) + 1),
                    caption=f"LRA test accuracy (%), profile {profile}: mean ± std over seeds"))
    curves_paragraph(doc, columns, no_curve)
    problems_paragraph(doc, runs)
    trained = runs.frame[runs.frame["status"] != MISSING]  # a missing cell made no number
    provenance_section(doc, trained, environment_labels(trained), profile,
                       "that made this file's numbers")
    return doc, pd.DataFrame(csv_rows)


def curves_paragraph(doc: Document, columns: list[str], no_curve) -> None:
    doc.paragraph("Learning curves (validation accuracy against step, chance level dashed): "
                  "`curves_<task>.png` beside this file.")
    if no_curve:
        doc.paragraph(f"{len(no_curve)} run(s) have no learning curve (no `csv/metrics.csv` "
                      "with validation accuracy in the run folder): "
                      + ", ".join(f"`{p}`" for p in no_curve) + ".")


def problems_paragraph(doc: Document, runs: Runs) -> None:
    if runs.problems:
        listed = "; ".join(f"`{p.path}` ({p.reason})" for p in runs.problems)
        doc.paragraph(f"{len(runs.problems)} summary file(s) are invalid (unreadable, or not "
                      f"what the summary schema allows) and are not in the tables: {listed}.")


def _avg_text(avg: float | None, k: int) -> str:
    if avg is None:
        return "n/a (0/5 tasks)"
    return f"{avg:.2f}" if k == len(LRA_TASKS) else f"{avg:.2f} ({k}/5 tasks)"

