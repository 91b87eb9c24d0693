"""`python -m macformer.report --runs results/runs --out results [--format latex]`."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from .build import build_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m macformer.report",
        description="Aggregate every run's summary.json into accuracy, efficiency and "
                    "published-comparison tables (Markdown + CSV) and plots (PNG).")
    parser.add_argument("--runs", default="results/runs",
                        help="folder searched recursively for summary.json (default: %(default)s)")
    parser.add_argument("--out", default="results",
                        help="folder the tables and plots are written to (default: %(default)s)")
    parser.add_argument("--format", choices=("markdown", "latex"), default="markdown",
                        help="`latex` also writes accuracy.tex, efficiency.tex, published.tex "
                             "(Markdown and CSV are always written)")
    parser.add_argument("--profile", default=None,
                        help="only runs of this profile (smoke, cpu, paper); default: all, "
                             "one section per profile, plots of the most faithful one")
    args = parser.parse_args(argv)
    report = build_report(args.runs, args.out, latex=args.format == "latex", profile=args.profile)
    counts = Counter(report.runs.frame["status"]) if not report.runs.frame.empty else Counter()
    status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no runs"
    print(f"report: {len(report.runs.frame)} runs under {args.runs} ({status}); "
          f"plots show profile {report.plotted_profile}")
    if report.runs.superseded:
        print(f"report: {report.runs.superseded} older summaries of re-run configurations ignored")
    for problem in report.runs.problems:
        print(f"report: could not read {problem.path}: {problem.reason}", file=sys.stderr)
    for path in report.written:
        print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
