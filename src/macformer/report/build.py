"""Build every report file from a runs folder; each file is written atomically and
only from the data, so running it twice gives byte-identical files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from macformer import atomic

from .document import Document, to_latex, to_markdown
from .load import COMPLETED, Runs, load_runs, profile_sort_key
from .plots import accuracy_plot, efficiency_plot
from .tables import accuracy_report, efficiency_report, published_report

# Written on every run (LaTeX files only with --format latex).
OUTPUT_FILES: tuple[str, ...] = (
    "accuracy.md", "accuracy.csv", "efficiency.md", "efficiency.csv", "published.md",
    "published.csv", "accuracy.png", "efficiency.png",
)
LATEX_FILES: tuple[str, ...] = ("accuracy.tex", "efficiency.tex", "published.tex")


@dataclass
class Report:
    runs: Runs
    plotted_profile: str
    written: list[Path]


def build_report(runs_dir: str | Path, out_dir: str | Path, *, latex: bool = False,
                 profile: str | None = None) -> Report:
    runs = load_runs(runs_dir)
    if profile is not None:
        runs.frame = runs.frame[runs.frame["profile"] == profile].reset_index(drop=True)
    out = Path(out_dir)
    written: list[Path] = []
    for name, (doc, frame) in (("accuracy", accuracy_report(runs)),
                               ("efficiency", efficiency_report(runs)),
                               ("published", published_report(runs))):
        written.append(atomic.write_text(out / f"{name}.md", to_markdown(doc)))
        written.append(atomic.write_text(out / f"{name}.csv", _csv(frame)))
        if latex:
            written.append(atomic.write_text(out / f"{name}.tex", to_latex(doc)))
    plotted = profile or plotted_profile(runs)
    written.append(atomic.write_bytes(out / "accuracy.png", accuracy_plot(runs, plotted)))
    written.append(atomic.write_bytes(out / "efficiency.png", efficiency_plot(runs, plotted)))
    return Report(runs=runs, plotted_profile=plotted, written=written)


def plotted_profile(runs: Runs) -> str:
    """The profile the plots show: the most faithful one with a completed run
    (paper, then cpu, then smoke), else the most faithful one with any run."""
    frame = runs.frame
    for candidates in (frame[frame["status"] == COMPLETED]["profile"], frame["profile"]):
        if len(candidates):
            return sorted(set(candidates), key=profile_sort_key)[0]
    return "none"


def _csv(frame: pd.DataFrame) -> str:
    frame = frame.copy()
    # Integers with gaps stay integers (128, not 128.0000).
    for key in ("num_features", "seed", "seq_len", "batch_size"):
        if key in frame:
            frame[key] = pd.array([None if v is None or v != v else int(v) for v in frame[key]],
                                  dtype="Int64")
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.4f")


__all__ = ["LATEX_FILES", "OUTPUT_FILES", "Document", "Report", "build_report", "plotted_profile"]
