"""What `macformer-report` says: the runs found and what was done with them on stdout, the
runs that are not reported as they are (settings differ, invalid, no curve) on stderr,
and a file error in one line."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from .build import Report


def print_report(report: Report, runs: str) -> None:
    frame = report.runs.frame
    frame = frame[frame["profile"].isin(report.profiles)]
    counts = Counter(frame["status"])
    status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"report: {len(frame)} runs under {runs} ({status}); "
          f"profiles: {', '.join(report.profiles)}")
    if report.runs.superseded:
        print(f"report: {report.runs.superseded} older summaries of re-run configurations ignored")
    for conflict in report.runs.conflicts:
        others = ", ".join(path for path, _ in conflict.set_aside)
        print(f"report: settings differ: kept {conflict.kept}, set aside {others} "
              "(footnote in accuracy.md)", file=sys.stderr)
    for problem in report.runs.problems:
        print(f"report: invalid, not reported: {problem.path}: {problem.reason}", file=sys.stderr)
    for profile, paths in report.no_curve.items():
        if paths:
            print(f"report: {profile}: no learning curve for {len(paths)} run(s): "
                  + ", ".join(paths), file=sys.stderr)
    for profile, copies in report.copied.items():
        if copies.written or copies.removed:
            print(f"report: {profile}: run records under {copies.root}: {len(copies.written)} "
                  f"file(s) copied, {len(copies.removed)} stale one(s) removed")
    for path in report.written:
        print(f"  wrote {path}")


def os_problem(error: OSError, runs: str, out: str) -> str:
    """One line for a file error: writing under --out, or reading under --runs."""
    path = Path(error.filename or out)
    why = error.strerror or str(error)
    if path.resolve().is_relative_to(Path(out).resolve()):
        return (f"cannot write {path}: {why}; pass --out a writable folder (the runs under "
                f"{runs} are only read, so a read-only runs folder can be reported elsewhere)")
    return f"cannot read {path}: {why}; nothing written"
