"""Build the report from a runs folder: one folder per profile, `<out>/<profile>/`,
with accuracy, efficiency and published tables (Markdown, CSV, optionally LaTeX), the
self-pretrained rows beside their twins (spt.md / spt.csv, when there are any), provenance.csv, the accuracy and efficiency plots and one learning-curve plot per task.

The profile's run records are first copied to `<out>/<profile>/runs/` (committed_runs.py)
and the report is built from that copy, so `--runs <out>/<profile>/runs` rebuilds it
byte for byte. Each file is written atomically and only from the summaries (no build
date, no path of the building machine), so running it twice gives identical files.

Nothing is written when there is nothing to report (no runs folder, no readable
summary, no run of the profile asked for): `ReportError` says why, and a good report
already in place stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from macformer import atomic

from .committed_runs import Copies, copies_under, copy_runs
from .curves import curve_plots
from .document import Document, to_latex, to_markdown
from .load import Runs, load_runs, profile_sort_key
from .plots import accuracy_plot, efficiency_plot
from .provenance import environment_labels, provenance_frame
from .spt_curves import spt_curve_plots
from .spt_table import has_spt, spt_report
from .tables import accuracy_report, efficiency_report, published_report

# Written in every profile's folder (LaTeX files only with --format latex), beside
# `curves_<task>.png` for each task the profile trained and the runs/ folder of copies.
OUTPUT_FILES: tuple[str, ...] = (
    "accuracy.md", "accuracy.csv", "efficiency.md", "efficiency.csv", "published.md",
    "published.csv", "provenance.csv", "accuracy.png", "efficiency.png",
)
LATEX_FILES: tuple[str, ...] = ("accuracy.tex", "efficiency.tex", "published.tex")


class ReportError(Exception):
    """Nothing to report; the message is one line saying why."""


@dataclass
class Report:
    runs: Runs
    profiles: list[str]
    written: list[Path]  # the report's files (the copies of run records: `copied`)
    no_curve: dict[str, list[str]] = field(default_factory=dict)  # profile -> summary paths
    copied: dict[str, Copies] = field(default_factory=dict)  # profile -> its runs/ folder


def build_report(runs_dir: str | Path, out_dir: str | Path, *, latex: bool = False,
                 profile: str | None = None) -> Report:
    runs_dir, out = Path(runs_dir), Path(out_dir)
    if not runs_dir.is_dir():
        what = "is not a folder" if runs_dir.exists() else "does not exist"
        raise ReportError(f"runs folder {runs_dir} {what}; nothing written")
    runs = load_runs(runs_dir, skip=copies_under(runs_dir, out))
    if not runs.found:
        raise ReportError(f"no summary.json under {runs_dir}; nothing written")
    if runs.frame.empty:
        first = runs.problems[0]
        raise ReportError(f"none of the {runs.found} summary.json files under {runs_dir} could "
                          f"be read as a valid summary (e.g. {first.path}: {first.reason}); "
                          f"nothing written")
    profiles = sorted(set(runs.frame["profile"]), key=profile_sort_key)
    if profile is not None:
        if profile not in profiles:
            raise ReportError(f"no run of profile {profile!r} under {runs_dir} (profiles "
                              f"found: {', '.join(profiles)}); nothing written")
        profiles = [profile]
    report = Report(runs=runs, profiles=profiles, written=[])
    for name in profiles:
        report.written += _write_profile(runs, runs_dir, out / profile_folder(name), name,
                                         latex, report)
    return report


def _write_profile(runs: Runs, runs_dir: Path, folder: Path, profile: str, latex: bool,
                   report: Report) -> list[Path]:
    # An unreadable summary is listed under its profile's folder, or under every profile
    # when its path does not name one.
    known = set(runs.frame["profile"])
    problems = [p.path for p in runs.problems
                if p.path.split("/", 1)[0] == profile or p.path.split("/", 1)[0] not in known]
    copies = copy_runs(runs_dir, folder, sorted(
        [path for path, of in runs.profiles.items() if of == profile] + problems))
    report.copied[profile] = copies
    # Built from the copies, paths relative to the report's folder: `runs/<task>/...`.
    local = load_runs(copies.root, paths_from=folder)
    part = local.of_profile(profile)
    curves, no_curve = curve_plots(part, folder, profile)
    curves.update(spt_curve_plots(part, folder, profile))  # the self-pretraining's, when any
    report.no_curve[profile] = [copies.source(path) for path in no_curve]
    written = []
    for name, (doc, frame) in (
            ("accuracy", accuracy_report(part, profile, no_curve=no_curve)),
            ("efficiency", efficiency_report(part, profile)),
            ("published", published_report(part, profile))):
        written.append(atomic.write_text(folder / f"{name}.md", to_markdown(doc)))
        written.append(atomic.write_text(folder / f"{name}.csv", _csv(frame)))
        if latex:
            written.append(atomic.write_text(folder / f"{name}.tex", to_latex(doc)))
    spt_files = [folder / "spt.md", folder / "spt.csv"]
    if has_spt(part):  # self-pretrained rows beside their twins from scratch
        doc, frame = spt_report(part, profile)
        written.append(atomic.write_text(spt_files[0], to_markdown(doc)))
        written.append(atomic.write_text(spt_files[1], _csv(frame)))
    else:
        for stale in spt_files:  # no self-pretrained run any more
            stale.unlink(missing_ok=True)
    written.append(atomic.write_text(folder / "provenance.csv", _csv(provenance_frame(
        part, environment_labels(part.frame)))))
    written.append(atomic.write_bytes(folder / "accuracy.png", accuracy_plot(part, profile)))
    written.append(atomic.write_bytes(folder / "efficiency.png", efficiency_plot(part, profile)))
    for name, data in sorted(curves.items()):
        written.append(atomic.write_bytes(folder / name, data))
    for stale in sorted(folder.glob("curves_*.png")):  # a task no longer in the runs
        if stale.name not in curves:
            stale.unlink()
    return written


def profile_folder(profile: str) -> str:
    """The profile's folder name: the name itself when it is a plain one."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", profile)
    return name if name.strip(".") else "_"


def _csv(frame: pd.DataFrame) -> str:
    frame = frame.copy()
    # Integers with gaps stay integers (128, not 128.0000).
    for key in ("num_features", "seed", "seq_len", "batch_size"):
        if key in frame:
            frame[key] = pd.array([None if v is None or v != v else int(v) for v in frame[key]],
                                  dtype="Int64")
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.4f")


__all__ = ["LATEX_FILES", "OUTPUT_FILES", "Document", "Report", "ReportError", "build_report"]
