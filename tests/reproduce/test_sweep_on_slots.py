"""A real sweep on the CPU: its plan is printed first with a measured estimate that lands
within ±30% of the wall time it took, and two jobs at once give the summaries of one after
the other (same accuracies, same steps), overlapping in time.

The runs take seconds, so a burst of other work on a shared 2-core machine between the
calibration and the run can move one of them by 2x: a sweep that misses is tried once more
in a fresh folder (fresh calibration), and both ratios are in the message."""

import os
from datetime import datetime

from reproduce_helpers import SAME, reproduce, summaries, wall_ratio


def test_plan_first_then_estimate_within_30_percent(one_after_the_other):
    root, out = one_after_the_other
    plan_at, run_at = out.index("est. run-hours"), out.index("listops softmax seed0: running")
    assert out.index("calibrating 2 shape(s)") < plan_at < run_at
    assert "listops  softmax" in out and "1 jobs x 1 threads" in out
    ratios = [wall_ratio(out)]
    if not 0.7 <= ratios[0] <= 1.3:
        retry = reproduce(root / "data", root / "retry", "--jobs", "1", "--no-report")
        ratios.append(wall_ratio(retry))
    assert 0.7 <= ratios[-1] <= 1.3, f"actual / estimated: {ratios}, load {os.getloadavg()}\n{out}"
    cost = (root / "results" / "smoke" / "cost.md").read_text()
    assert "| est. hours |" in cost.replace("   ", " ") or "est. hours" in cost
    # Cached per device and code version: planning again measures nothing.
    again = reproduce(root / "data", root / "results", "--jobs", "1", "--plan")
    assert "calibrating" not in again and again.count("completed before") == 0
    assert "total" in again and "       2       2" in again  # 2 runs, both done


def test_two_jobs_at_once_give_the_same_summaries(one_after_the_other, tmp_path):
    root, _ = one_after_the_other
    out = reproduce(root / "data", tmp_path / "results", "--jobs", "2", "--no-report")
    assert "on cpu/1" in out and "on cpu/2" in out and "2 jobs x 1 threads" in out
    alone, together = summaries(root / "results"), summaries(tmp_path / "results")
    for row in alone:
        assert {k: together[row][k] for k in SAME} == {k: alone[row][k] for k in SAME}, row
    a, b = (together[row] for row in alone)
    start = [datetime.fromisoformat(s["start_time"]) for s in (a, b)]
    end = [datetime.fromisoformat(s["end_time"]) for s in (a, b)]
    assert start[0] < end[1] and start[1] < end[0]  # they ran at the same time
