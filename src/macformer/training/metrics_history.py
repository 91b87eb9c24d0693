"""metrics.csv that keeps the whole learning curve across resumed attempts.

Lightning's CSVLogger deletes an existing metrics.csv when it starts, so after a resume
the curve (which the report plots) would restart at the resumed step. Here the earlier
file is kept until this attempt first saves; then the file is rewritten as the earlier
rows before this attempt's first step, followed by this attempt's rows (a resumed step
is re-done, and its later values win), and appended to from then on. A run started
afresh logs from step 0, so nothing of an earlier run survives.
"""

from __future__ import annotations

import csv
import os

from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.loggers.logger import rank_zero_experiment


def _step(row: dict) -> float:
    try:
        return float(row.get("step") or "nan")
    except ValueError:
        return float("nan")


class _HistoryWriter(ExperimentWriter):
    def __init__(self, log_dir: str):
        super().__init__(log_dir)
        self._continued = False

    def _check_log_dir_exists(self) -> None:
        pass  # keep the earlier attempts' rows; save() merges them

    def _earlier_rows(self) -> list[dict]:
        if not self._fs.isfile(self.metrics_file_path):
            return []
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            return list(csv.DictReader(file))

    def save(self) -> None:
        if self._continued or not self.metrics:
            return super().save()
        first = min(_step(row) for row in self.metrics)
        kept = [row for row in self._earlier_rows() if _step(row) < first]
        keys = set(self.metrics_keys).union(*kept, *self.metrics)
        self.metrics_keys = sorted(keys)
        tmp = self.metrics_file_path + ".tmp"
        with self._fs.open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.metrics_keys)
            writer.writeheader()
            writer.writerows(kept)
            writer.writerows(self.metrics)
        os.replace(tmp, self.metrics_file_path)
        self.metrics = []
        self._continued = True


class HistoryCSVLogger(CSVLogger):
    """CSVLogger whose metrics.csv holds every step of every attempt (see the module docstring)."""

    @property
    @rank_zero_experiment
    def experiment(self) -> _HistoryWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _HistoryWriter(log_dir=self.log_dir)
        return self._experiment
