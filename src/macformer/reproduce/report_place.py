"""Where a sweep's report goes, so that it never overwrites a better one.

RESULTS/<profile>/ (committed for the cpu and paper profiles) is written only by a sweep
that leaves every run of the profile's own plan done (completed, or its data missing: what
this machine can do), or when it holds no report yet. Any other sweep (interrupted by
Ctrl-C, a run that failed, or one narrowed by --tasks / --rows / --seeds / --sweep) writes
its report beside it, to RESULTS/partial/<profile>/ (ignored by git), and says so.
`macformer-report` (make report) rebuilds RESULTS/<profile>/ from every run when asked.
"""

from __future__ import annotations

from pathlib import Path

from .sweep import PROFILES, Sweep

PARTIAL_DIR = "partial"
DONE_STATUSES = ("completed", "missing")


def narrowed(profile: str, sweeps: list[Sweep], args) -> str | None:
    """Which option leaves part of the profile's plan out, or None."""
    groups = {s.group for s in sweeps}
    if set(PROFILES[profile].groups) - groups:
        return f"--sweep {','.join(sorted(groups))}"
    for flag, asked, plan in (("--tasks", args.tasks, {t for s in sweeps for t in s.tasks}),
                              ("--rows", args.rows, {r.name for s in sweeps for r in s.rows}),
                              ("--seeds", args.seeds, set(PROFILES[profile].seeds))):
        if asked is not None and plan - set(asked):
            return f"{flag} {' '.join(map(str, asked))}"
    return None


def partial_reason(narrowed_by: str | None, outcomes, interrupted: bool, skipped) -> str | None:
    """Why the sweep's report is not the profile's whole one, or None when it is."""
    if interrupted:
        return "interrupted by Ctrl-C"
    undone = [job for job, summary, _ in outcomes if summary.get("status") not in DONE_STATUSES]
    if undone or skipped:
        return f"{len(undone) + len(skipped)} of {len(outcomes) + len(skipped)} runs did not complete"
    if narrowed_by:
        return f"narrowed by {narrowed_by}"
    return None


def report_root(results: Path, profile: str, reason: str | None) -> Path:
    """The folder to build the report under (it writes <root>/<profile>/)."""
    from macformer.report import OUTPUT_FILES
    from macformer.report.build import profile_folder

    if reason is None:
        return results
    own = results / profile_folder(profile)
    if not any((own / name).exists() for name in OUTPUT_FILES):
        return results  # no report there yet: nothing to overwrite
    return results / PARTIAL_DIR


def placement_line(results: Path, profile: str, root: Path, reason: str | None) -> str | None:
    """The line that says where a partial sweep's report went, or None for the usual place."""
    from macformer.report.build import profile_folder

    if root == results:
        return None
    return (f"reproduce: this sweep is not the profile's whole plan done ({reason}), so its report "
            f"went to {root / profile_folder(profile)}/, beside {results / profile_folder(profile)}/ "
            f"(kept as it was; `make report` rebuilds it from every run)")


def write_report(results: Path, profile: str, reason: str | None, cost_table: str, where: str) -> list[Path]:
    """The profile's report and cost.md (the estimate beside the time taken), in the folder
    report_root chooses; what was written. A report that cannot be built or written is one line."""
    from macformer import atomic
    from macformer.report import ReportError, build_report
    from macformer.report.build import profile_folder

    root = report_root(results, profile, reason)
    try:  # this profile's folder only (other profiles' stay as they are)
        written = build_report(results / "runs", root, profile=profile).written
    except ReportError as error:
        print(f"reproduce: report: {error}", flush=True)
        return []
    except OSError as error:  # a full disk, a read-only folder
        print(f"reproduce: report: not written to {root / profile_folder(profile)}: {error}", flush=True)
        return []
    try:
        written.append(atomic.write_text(root / profile_folder(profile) / "cost.md",
                                         f"# Estimated and actual hours ({where})\n\n" + cost_table))
    except OSError as error:
        print(f"reproduce: cost.md not written: {error}", flush=True)
    if line := placement_line(results, profile, root, reason):
        print(line, flush=True)
    return written
