"""The re-test beside the record: which test split, which accuracy, agreed or not."""

from __future__ import annotations

from .record import RunRecord
from .retest import Retest


def compare(record: RunRecord, result: Retest) -> tuple[bool, list[str]]:
    """(whether the re-test agrees with the record, the lines that say so)."""
    summary = record.summary
    lines = [f"{record.run_dir}: {summary.get('task')} {record.run_dir.parent.name} seed{summary.get('seed')}"]
    recorded_sha = summary.get("test_split_sha256")
    if summary.get("test_examples") not in (None, result.test_examples):
        return False, [*lines, f"the test split changed: {result.test_examples} examples, the run tested "
                               f"{summary['test_examples']}"]
    if recorded_sha and recorded_sha != result.test_split_sha256:
        return False, [*lines, f"the test split changed: its sha256 is {str(result.test_split_sha256)[:16]}…, "
                               f"the run tested {recorded_sha[:16]}…"]
    if not recorded_sha:
        lines.append("the run recorded no test-split sha256 (a summary older than that field): "
                     "the examples' count alone is checked")
    recorded, measured = record.recorded_accuracy, result.accuracy
    side = f"recorded {recorded!r}, re-tested {measured!r} ({100 * measured:.2f} %)"
    if result.exact:
        agreed = measured == recorded
        lines.append(f"{side}: {'equal' if agreed else 'NOT equal'} (the run's own CPU environment: "
                     "equal to the last digit is required)")
        return agreed, lines
    tolerance = result.tolerance
    # + 1e-6: both accuracies are float32 fractions, each rounded by up to ~6e-8
    agreed = abs(measured - recorded) <= tolerance.accuracy + 1e-6
    lines.append(f"another environment than the run's ({'; '.join(result.differences)}): "
                 f"{tolerance.describe()}")
    lines.append(f"{side}: {'within' if agreed else 'OUTSIDE'} that tolerance")
    return agreed, lines
