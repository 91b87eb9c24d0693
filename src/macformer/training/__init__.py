"""Training: the Lightning module, run summaries, resumption, throughput and data preparation.

The entry point is `python -m macformer.train` (src/macformer/train.py), configured by conf/.
"""

from .lit_module import LRALitModule
from .summary import SCHEMA, SUMMARY_NAME, read_summary, write_summary
from .throughput import ThroughputMonitor

__all__ = ["LRALitModule", "SCHEMA", "SUMMARY_NAME", "ThroughputMonitor", "read_summary",
           "write_summary"]
