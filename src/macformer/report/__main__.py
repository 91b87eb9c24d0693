"""`macformer-report --runs results/runs --out results [--profile P] [--format latex] [--wandb]`
(or `python -m macformer.report ...`) writes `<out>/<profile>/` for every profile with runs
(or only P), with the run records it is built from under `<out>/<profile>/runs/`; `--wandb`
also logs each profile's report as one W&B run (report/wandb_upload.py). Flags: cli.py."""

from __future__ import annotations

import sys
from pathlib import Path

from .build import ReportError, build_report, profile_folder
from .cli import parse
from .messages import os_problem, print_report


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        report = build_report(args.runs, args.out, latex=args.format == "latex",
                              profile=args.profile)
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # --out read-only, a file or full; or a runs folder that cannot be read
        print(f"report: {os_problem(error, args.runs, args.out)}", file=sys.stderr)
        return 2
    print_report(report, args.runs)
    if args.wandb:
        from .wandb_upload import upload_profile

        for profile in report.profiles:
            local = upload_profile(report.runs, Path(args.runs), Path(args.out) / profile_folder(profile),
                                   profile, project=args.wandb_project, group=args.wandb_group)
            print(f"report: {profile} logged to W&B ({local})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
