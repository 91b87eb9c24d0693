"""The sweep's last word: how each run ended, counted by status, then every run that did
not complete, was held by another process, was skipped or had no data."""

from __future__ import annotations

from .progress import clock


def accuracy_text(summary: dict) -> str:
    """A run's result for a progress line: its test accuracy, else why it has none."""
    acc = summary.get("test_accuracy")
    if acc is not None:
        return f"test accuracy {100 * acc:.2f}%"
    from macformer.report.tables import error_line

    return error_line(summary.get("error"), default="no accuracy")


def print_closing(outcomes, missing: dict[str, str], seconds: float, written,
                  interrupted: bool = False, skipped=()) -> int:
    """The sweep's last word: runs by status (failed ones over their time limit counted
    apart, held ones named as such), then each run that did not complete. Returns how many
    failed, stopped or were interrupted."""
    from macformer.report.tables import error_line

    from .held import HELD
    from .runner import TIME_LIMIT

    counts: dict[str, int] = {}
    for _, summary, _ in outcomes:
        counts[summary.get("status")] = counts.get(summary.get("status"), 0) + 1
    timed_out = sum(s.get("stop_reason") == TIME_LIMIT for _, s, _ in outcomes)
    labels = {HELD: "held by another process",
              "failed": f"failed ({timed_out} over the time limit)" if timed_out else "failed"}
    ended = "stopped by Ctrl-C after" if interrupted else "finished in"
    print(f"\nreproduce: {ended} {clock(seconds)}: " + (", ".join(
        f"{n} {labels.get(s, s)}" for s, n in sorted(counts.items(), key=lambda c: str(c[0])))
        or "no runs done"), flush=True)
    failed = [(job, s) for job, s, _ in outcomes
              if s.get("status") in ("failed", "interrupted", "stopped")]
    if failed:
        print(f"reproduce: {len(failed)} run(s) did not complete"
              + (":" if interrupted else " (the others ran on):"))
        for job, s in failed:
            print(f"  {job.name}: {error_line(s.get('error'))}  [{job.run_dir}]")
    held = [(job, s) for job, s, _ in outcomes if s.get("status") == HELD]
    if held:
        print(f"reproduce: {len(held)} run(s) held by another process, left to it (nothing written "
              "into their folders; re-run the same command once they end):")
        for job, s in held:
            print(f"  {job.name}: {s.get('error')}  [{job.run_dir}]")
    for c in skipped:
        print(f"reproduce: {c.job.name} skipped: {c.skip}")
    for task, detail in missing.items():
        print(f"reproduce: {task} missing: {detail}")
    if written:
        print("reproduce: report: " + ", ".join(str(p) for p in written))
    return len(failed)
