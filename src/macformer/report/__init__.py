"""The aggregator: every run's summary.json → accuracy, efficiency and published tables
(Markdown, CSV, optionally LaTeX) and plots, one folder per profile.
`python -m macformer.report --help`."""

from .build import OUTPUT_FILES, ReportError, build_report
from .load import load_runs

__all__ = ["OUTPUT_FILES", "ReportError", "build_report", "load_runs"]
