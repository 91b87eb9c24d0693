"""The sweep's closing summary counts every run by how it ended: completed, failed (those
over the time limit counted apart), held by another process, interrupted."""

from __future__ import annotations

from driver_helpers import smoke_job

from macformer.reproduce.closing import print_closing
from macformer.reproduce.held import HELD
from macformer.reproduce.runner import TIME_LIMIT, driver_summary


def test_the_closing_line_counts_each_way_a_run_ended(tmp_path, capsys):
    job = smoke_job(tmp_path / "data", tmp_path / "results")
    ended = [("completed", None, None), ("completed", None, None),
             ("failed", TIME_LIMIT, "stopped at the time limit of 12 s at step 40 of 200"),
             ("failed", "error", "RuntimeError: boom"),
             (HELD, None, "held by another process (pid 7 on box, started 2026-01-01T00:00:00+00:00)"),
             ("interrupted", "SIGINT", "interrupted by Ctrl-C (SIGINT) at step 3")]
    outcomes = []
    for status, reason, error in ended:
        record = driver_summary(job, status, error)
        record["stop_reason"] = reason
        outcomes.append((job, record, "ran"))
    failures = print_closing(outcomes, {}, 75.0, [])
    out = capsys.readouterr().out
    assert ("reproduce: finished in 1:15: 2 completed, 2 failed (1 over the time limit), 1 held by "
            "another process, 1 interrupted") in out
    assert failures == 3  # the held run is another process's, not a failure of this sweep
    assert "3 run(s) did not complete (the others ran on):" in out
    assert "stopped at the time limit of 12 s" in out and "RuntimeError: boom" in out
    assert "1 run(s) held by another process, left to it" in out
    assert "held by another process (pid 7 on box, started 2026-01-01T00:00:00+00:00)" in out
