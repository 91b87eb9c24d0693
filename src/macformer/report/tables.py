"""The three tables of a profile's report: accuracy (`accuracy_table`), efficiency
(`efficiency_table`) and ours beside the published numbers (`published_table`). Each
builder returns a `Document` (rendered to Markdown / LaTeX) and a DataFrame (CSV)."""

from .accuracy_table import accuracy_report
from .efficiency_table import efficiency_frame, efficiency_report
from .format import error_line
from .published_table import published_report

__all__ = ["accuracy_report", "efficiency_frame", "efficiency_report", "error_line",
           "published_report"]
