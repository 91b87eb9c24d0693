"""Random corruptions of what the harness reads back: run summaries (through the real
report) and TSV rows (through the real readers). Each ends as an `invalid` mark with its
reason or a one-line error naming the file and line, never an exception from inside,
and never a corrupted value shown as a result."""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sweep_values import TEXT

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_summaries import summary, write_summaries  # noqa: E402

from macformer.attention import attentions  # noqa: E402
from macformer.data.readers.aan_tsv import read_aan  # noqa: E402
from macformer.data.readers.listops_tsv import read_listops  # noqa: E402
from macformer.data.readers.stats import ReadStats  # noqa: E402
from macformer.data.tasks import TASKS, MalformedDataError  # noqa: E402
from macformer.lifecycle.record import SCHEMA, STATUSES  # noqa: E402
from macformer.report.accuracy_table import accuracy_report  # noqa: E402
from macformer.report.document import to_markdown  # noqa: E402
from macformer.report.efficiency_table import efficiency_report  # noqa: E402
from macformer.report.format import py  # noqa: E402
from macformer.report.load import load_runs  # noqa: E402

CASES = 100
SWEEP = settings(max_examples=CASES, derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
ANY_JSON = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(), TEXT,
                     st.lists(st.integers(0, 2), max_size=2), st.dictionaries(TEXT, st.integers(), max_size=2))
FRACTIONS = ("val_accuracy", "test_accuracy", "chance_accuracy")


def fraction(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= 1)


def report_of(record_or_text) -> tuple[object, str]:
    """(the loaded runs, the accuracy and efficiency Markdown) of one corrupted summary beside
    a good one of another task."""
    with tempfile.TemporaryDirectory() as folder:
        runs = write_summaries(Path(folder), {"cpu/listops/softmax/seed0": record_or_text,
                                              "cpu/text/softmax/seed0": summary(task="text")})
        loaded = load_runs(runs)
        part = loaded.of_profile("cpu")
        markdown = to_markdown(accuracy_report(part, "cpu")[0]) + to_markdown(efficiency_report(part, "cpu")[0])
        return loaded, markdown


@SWEEP
@given(st.one_of(st.sampled_from((*FRACTIONS, "status", "task", "attention")), st.sampled_from(sorted(SCHEMA))),
       ANY_JSON, st.booleans())
def test_a_corrupted_summary_is_invalid_or_honestly_reported(key, value, delete):
    record = summary(test_accuracy=0.4321)
    if delete:
        record.pop(key, None)
    else:
        record[key] = value
    loaded, markdown = report_of(json.dumps(record))  # JSON writes nan and inf as NaN, Infinity
    problems = {p.path: p.reason for p in loaded.problems}
    mine = "cpu/listops/softmax/seed0/summary.json"
    if mine in problems:
        assert problems[mine].strip() and "\n" not in problems[mine]
        assert mine in markdown and "43.21" not in markdown  # listed as invalid, never a result
        return
    # Reported: then what the corruption touched is still something the schema allows.
    if key in FRACTIONS and not delete:
        assert value is None or fraction(value)
    if key == "status" and not delete:
        assert value in STATUSES
    if key in ("task", "attention") and not delete:
        assert isinstance(value, str) and value in {"task": TASKS, "attention": attentions()}[key]
    shown = loaded.frame[loaded.frame["path"] == mine].iloc[0]
    assert all(py(shown[k]) is None or fraction(py(shown[k])) for k in FRACTIONS)


@SWEEP
@given(st.integers(0, 2000), st.binary(max_size=3))
def test_a_garbled_summary_file_is_invalid_or_readable(cut, noise):
    text = json.dumps(summary(), indent=2).encode()
    garbled = text[:cut] + noise + text[cut + len(noise):]
    loaded, _ = report_of(garbled.decode("utf-8", errors="replace"))
    assert len(loaded.frame) + len(loaded.problems) == 2


GOOD_LISTOPS = ["[MAX 2 9 ]\t9", "[MIN 4 [MAX 1 3 ] ]\t3", "[SM 1 2 ]\t3"]
GOOD_AAN = ["1.0\ta\tb\tfirst text\tsecond text", "0.0\tc\td\tanother\tone more"]


def corrupt(row: str):
    """A row with one corruption: a field dropped or added, another label, noise bytes."""
    fields = row.split("\t")
    return st.one_of(
        st.just("\t".join(fields[:-1])), st.just(row + "\t" + fields[-1]),
        st.one_of(TEXT, st.integers(-20, 20).map(str), st.floats().map(repr)).map(
            lambda label: "\t".join([*fields[:-1], label]) if len(fields) == 2 else "\t".join([label, *fields[1:]])),
        st.binary(min_size=1, max_size=3).map(lambda noise: row.encode() + noise),
        TEXT.map(lambda token: row.replace(" ", f" {token} ", 1)))


def read_rows(reader, header: str, rows: list, **options):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "split.tsv"
        lines = ([header.encode()] if header else []) + [r if isinstance(r, bytes) else r.encode() for r in rows]
        path.write_bytes(b"\n".join(lines) + b"\n")
        try:
            return path, [row for batch in reader(path, 2048, ReadStats(), **options) for row in batch["label"]]
        except MalformedDataError as error:
            return path, str(error)


@pytest.mark.parametrize("reader, header, good, labels", [
    (read_listops, "Source\tTarget", GOOD_LISTOPS, range(10)),
    (read_aan, "", GOOD_AAN, (0, 1)),
], ids=["listops", "aan"])
@settings(max_examples=CASES, derandomize=True, database=None, deadline=None)
@given(data=st.data())
def test_a_corrupted_tsv_row_is_named_by_its_line_or_read_correctly(reader, header, good, labels, data):
    index = data.draw(st.integers(0, len(good) - 1))
    rows = list(good)
    rows[index] = data.draw(corrupt(good[index]))
    path, result = read_rows(reader, header, rows)
    line = index + (2 if header else 1)
    if isinstance(result, str):
        assert result.startswith(f"{path}:{line}: ") and "\n" not in result, result
    else:  # still a valid row (say, a label `1e0`): every label in range, none lost
        assert len(result) == len(good) and all(label in labels for label in result)
