"""Which tasks of a set of runs have no data under a data folder and cannot get it by
themselves, with how to fetch each (what a sweep records as missing instead of running)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from .status import data_status


class NeedsData(Protocol):
    """A run as far as its data goes (macformer.reproduce.sweep.Job is one)."""

    task: str
    generable: bool  # the run generates its data when missing (macformer.data.generate)


def missing_tasks(data_dir: str | Path, jobs: Iterable[NeedsData]) -> dict[str, str]:
    """Return task → how to fetch it (data_status's detail), in the order the tasks first
    appear in `jobs`, for each task whose data is absent under `data_dir` and that no job of
    it can generate (ListOps and Pathfinder runs generate theirs). A task data_status does
    not know is taken as present."""
    jobs = list(jobs)  # read twice
    status = {task: (ready, detail) for task, ready, detail in data_status(data_dir)}
    generable = {j.task for j in jobs if j.generable}
    out = {}
    for task in dict.fromkeys(j.task for j in jobs):
        ready, detail = status.get(task, (True, ""))
        if not ready and task not in generable:
            out[task] = detail
    return out
