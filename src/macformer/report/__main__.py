"""`macformer-report --runs results/runs --out results [--profile P] [--format latex] [--wandb]`
(or `python -m macformer.report ...`) writes `<out>/<profile>/` for every profile with runs
(or only P); `--wandb` also logs each profile's report as one W&B run (report/wandb_upload.py)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from macformer.checks.arguments import OneLineParser

from .build import ReportError, build_report


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="macformer-report",
        description="Aggregate every run's summary.json into accuracy, efficiency and "
                    "published-comparison tables (Markdown + CSV) and plots (PNG), one "
                    "folder per profile: <out>/<profile>/.")
    parser.add_argument("--runs", default="results/runs",
                        help="folder searched recursively for summary.json (default: %(default)s)")
    parser.add_argument("--out", default="results",
                        help="folder holding one report folder per profile (default: %(default)s)")
    parser.add_argument("--format", choices=("markdown", "latex"), default="markdown",
                        help="`latex` also writes accuracy.tex, efficiency.tex, published.tex "
                             "(Markdown and CSV are always written)")
    parser.add_argument("--profile", default=None,
                        help="only this profile's folder (smoke, cpu, paper); default: every "
                             "profile that has runs")
    parser.add_argument("--wandb", action="store_true",
                        help="also log each profile's tables, plots and learning curves as one W&B "
                             "run in the sweep's group (WANDB_MODE=offline writes it under "
                             "<out>/<profile>/wandb/ for `wandb sync`)")
    parser.add_argument("--wandb-project", default="macformer-lra", help="default: %(default)s")
    parser.add_argument("--wandb-group", default=None,
                        help="W&B group of the report run; default: the runs' sweep id "
                             "(run.sweep_id), else report-<profile>")
    args = parser.parse_args(argv)
    try:
        report = build_report(args.runs, args.out, latex=args.format == "latex",
                              profile=args.profile)
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # --out read-only, a file or full; or a runs folder that cannot be read
        print(f"report: {_os_problem(error, args)}", file=sys.stderr)
        return 2
    frame = report.runs.frame
    frame = frame[frame["profile"].isin(report.profiles)]
    counts = Counter(frame["status"])
    status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"report: {len(frame)} runs under {args.runs} ({status}); "
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
    for path in report.written:
        print(f"  wrote {path}")
    if args.wandb:
        from .build import profile_folder
        from .wandb_upload import upload_profile

        for profile in report.profiles:
            local = upload_profile(report.runs, Path(args.runs), Path(args.out) / profile_folder(profile),
                                   profile, project=args.wandb_project, group=args.wandb_group)
            print(f"report: {profile} logged to W&B ({local})")
    return 0


def _os_problem(error: OSError, args) -> str:
    """One line for a file error: writing under --out, or reading under --runs."""
    path = Path(error.filename or args.out)
    why = error.strerror or str(error)
    if path.resolve().is_relative_to(Path(args.out).resolve()):
        return (f"cannot write {path}: {why}; pass --out a writable folder (the runs under "
                f"{args.runs} are only read, so a read-only runs folder can be reported elsewhere)")
    return f"cannot read {path}: {why}; nothing written"


if __name__ == "__main__":
    sys.exit(main())
