"""One table cell: the runs of one variant on one column (task and data set), with
what the tables say about them: mean ± std of completed seeds, stopped and failed
runs, runs whose settings conflict, and whether the accuracy is above chance."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .document import Cell, Document
from .format import error_line, py, steps_text
from .load import (
    COMPLETED,
    INTERRUPTED,
    LRA_DATA,
    LRA_TASKS,
    MISSING,
    STOPPED,
    TASK_TITLES,
    Conflict,
    Runs,
    column_dataset,
    column_task,
)
from .variants import Variant, variant_of

# Test-set size assumed when a summary does not record `test_examples`: small, so the
# margin above chance is wide and a doubtful cell is flagged rather than passed.
FALLBACK_TEST_EXAMPLES = 500
CHANCE_MARK = "≈chance"


@dataclass(frozen=True)
class Chance:
    p: float | None  # chance accuracy (fraction)
    n: int  # test examples
    recorded: bool  # from the summaries (else the per-task fallback)

    @property
    def threshold(self) -> float | None:
        """Accuracy (fraction) a result must exceed to count as above chance."""
        if self.p is None:
            return None
        return self.p + 2.0 * math.sqrt(self.p * (1.0 - self.p) / self.n)

    def at_chance(self, percent: float | None) -> bool:
        return percent is not None and self.threshold is not None and (
            percent / 100.0 <= self.threshold)

    def note(self, task: str) -> str:
        title = TASK_TITLES.get(task, task)
        rule = (f"{CHANCE_MARK}: test accuracy not above chance by more than 2 binomial "
                "standard errors, i.e. not above p + 2·√(p(1−p)/n)")
        if self.recorded:
            return (f"{rule}; {title}: p = {100 * self.p:.2f}% (the most frequent label's "
                    f"share of the test set), n = {self.n:,} test examples, threshold "
                    f"{100 * self.threshold:.2f}%.")
        return (f"{rule}; {title}: the summaries do not record the chance level, so "
                f"p = 1/number of classes = {100 * self.p:.2f}% and n = {self.n:,} are "
                f"assumed (threshold {100 * self.threshold:.2f}%); the most frequent label "
                "may be more frequent than that.")


def chance_of(records: list[dict], task: str) -> Chance:
    """From the runs' `chance_accuracy` / `test_examples`, else 1/num_classes."""
    known = [(r["chance_accuracy"], r["test_examples"]) for r in records
             if r.get("status") != MISSING  # a run skipped for absent data evaluated nothing
             and py(r.get("chance_accuracy")) is not None and py(r.get("test_examples"))]
    if known:
        return Chance(sum(p for p, _ in known) / len(known), min(int(n) for _, n in known), True)
    from macformer.data.tasks import TASKS, task_spec

    classes = task_spec(task).num_classes if task in TASKS else None
    return Chance(1.0 / classes if classes else None, FALLBACK_TEST_EXAMPLES, False)


@dataclass
class CellStats:
    """The runs of one variant on one column."""

    accuracies: list[float] = field(default_factory=list)  # test accuracy (%) of completed runs
    stopped: list[dict] = field(default_factory=list)  # runs stopped before max_steps
    failed: list[dict] = field(default_factory=list)  # failed or interrupted runs
    missing: list[dict] = field(default_factory=list)  # runs skipped because data was absent
    records: list[dict] = field(default_factory=list)  # every run of the cell
    conflicts: list[Conflict] = field(default_factory=list)

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
    def stopped_accuracies(self) -> list[float]:
        return [100.0 * r["test_accuracy"] for r in self.stopped
                if r.get("test_accuracy") is not None]

    @property
    def status(self) -> str:
        if self.n:
            return "partial" if self.failed or self.stopped else "ok"
        if self.stopped:
            return STOPPED
        if self.failed:
            statuses = {r["status"] for r in self.failed}
            return INTERRUPTED if statuses == {INTERRUPTED} else "failed"
        return MISSING if self.missing else "not run"

    def chance(self, column: str) -> Chance:
        return chance_of(self.records, column_task(column))


def accuracy_cells(runs: Runs) -> dict[tuple[Variant, str], CellStats]:
    """(variant, column) -> CellStats for every run."""
    conflicts = {c.kept: c for c in runs.conflicts}
    cells: dict[tuple[Variant, str], CellStats] = {}
    for _, row in runs.frame.iterrows():
        stats = cells.setdefault((variant_of(row), row["column"]), CellStats())
        record = {k: py(v) for k, v in row.items()}
        stats.records.append(record)
        if record["path"] in conflicts:
            stats.conflicts.append(conflicts[record["path"]])
        if row["status"] == COMPLETED and record["test_accuracy"] is not None:
            stats.accuracies.append(100.0 * record["test_accuracy"])
        elif row["status"] == COMPLETED:
            stats.failed.append({**record, "error": "completed without a test accuracy"})
        elif row["status"] == STOPPED:
            stats.stopped.append(record)
        elif row["status"] == MISSING:
            stats.missing.append(record)
        else:
            stats.failed.append(record)
    return cells


def average(cells, variant: Variant, columns: list[str]) -> tuple[float | None, int]:
    """Mean over the five LRA tasks on LRA data of the per-task means of completed seeds
    (Path-X and other data sets excluded), and how many of the five had a result."""
    means = [cells[(variant, c)].mean for c in columns
             if column_task(c) in LRA_TASKS and column_dataset(c) == LRA_DATA
             and (variant, c) in cells and cells[(variant, c)].n]
    return (sum(means) / len(means) if means else None), len(means)


def accuracy_cell(doc: Document, stats: CellStats, column: str) -> Cell:
    """`32.00 ± 2.83 (n=2)`, with marks: `≈chance`, `+1 stopped`, `+1 failed`, or
    `stopped: 41.20 (n=1)`, `failed`, `missing`, `not run`; footnotes say why."""
    notes: list[int] = []
    chance = stats.chance(column)
    if stats.n:
        text = f"{stats.mean:.2f}" + (f" ± {stats.std:.2f}" if stats.std is not None else "")
        text += f" (n={stats.n})"
        shown = stats.mean
    elif stats.stopped:
        accs = stats.stopped_accuracies
        shown = sum(accs) / len(accs) if accs else None
        text = f"stopped: {shown:.2f} (n={len(accs)})" if accs else STOPPED
    elif stats.failed:
        text, shown = stats.status, None
    elif stats.missing:
        task = column_task(column)
        return Cell(MISSING, tuple(sorted({doc.note(_missing_text(task, r)) for r in stats.missing})))
    else:
        return Cell("not run")
    if chance.at_chance(shown):
        text += f" {CHANCE_MARK}"
        notes.append(doc.note(chance.note(column_task(column))))
    if stats.n and stats.stopped:
        text += f" +{len(stats.stopped)} stopped"
    if (stats.n or stats.stopped) and stats.failed:
        text += f" +{len(stats.failed)} failed"
    notes += run_notes(doc, stats.stopped + stats.failed)
    notes += [doc.note(conflict_text(c)) for c in stats.conflicts]
    return Cell(text, tuple(sorted(set(notes))))


def run_notes(doc: Document, records: list[dict]) -> list[int]:
    """`stopped, seed 0, 300 / 1,000 steps: TimeoutError: …` per stopped or failed run."""
    notes = []
    for r in sorted(records, key=lambda r: r["path"]):
        where = "".join(f", {part}" for part in (
            "" if r.get("seed") is None else f"seed {r['seed']}", steps_text(r)) if part)
        default = ("stopped before max_steps" if r["status"] == STOPPED
                   else "no error message recorded")
        why = error_line(r.get("error") or r.get("stop_reason"), default)
        notes.append(doc.note(f"{r['status']}{where}: {why} "
                              f"(`{r['path']}`)"))
    return notes


def conflict_text(conflict: Conflict) -> str:
    others = ", ".join(f"`{path}` (config {h or 'not recorded'})" for path, h in conflict.set_aside)
    why = {True: "the one its run folder's run_identity.json names",
           False: "the completed or latest one, although its run folder's run_identity.json "
                  "names other settings"}.get(conflict.kept_matches_identity,
                                              "the completed or latest one")
    return (f"settings differ between summaries of this run: shown `{conflict.kept}` (config "
            f"{conflict.kept_hash or 'not recorded'}, {why}); set aside "
            f"{others}. Give changed settings a run.tag to keep both as rows.")


def _missing_text(task: str, record: dict) -> str:
    detail = error_line(record.get("error"), default=f"no data for {task}")
    return f"{TASK_TITLES.get(task, task)} data missing: {detail}"
