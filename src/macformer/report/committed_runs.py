"""The run records a profile's report is built from, kept beside it so that the report can
be committed with them and rebuilt from them byte for byte.

A run folder `<runs root>/<profile>/<task>/<label>[-<tag>]/seed<k>` is copied to
`<report folder>/runs/<task>/<label>[-<tag>]/seed<k>/` (the last three parts of its path
under the runs root; runs whose last three parts coincide keep their whole path). Copied:
`summary.json` (as it is, an invalid one too, so the rebuilt report lists it the same),
`run_identity.json` (it decides which of two summaries of one run is reported),
`.hydra/overrides.yaml` (as `overrides.yaml`: the command line that made the run) and
the learning curve's `metrics.csv` at its place in the run folder (usually
`csv/metrics.csv`; over 1 MiB, only its validation rows, which is all the curves read),
and a self-pretrained run's pretraining curve, `pretrain/csv/metrics.csv`. Never
checkpoints, logs or anything else.

The report is then built from that folder, so what it shows is exactly what a rebuild
from it shows, and the paths it names (`runs/listops/softmax/seed0/summary.json`) are
relative to the report itself. Files of these names that belong to no run of the report
any more are removed from that folder (and folders left empty); nothing else is touched.
When the runs root is that folder or lies in it (a rebuild in place), nothing is copied
or removed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from macformer import atomic

from .curves import PRETRAIN_METRICS, metrics_file
from .load import IDENTITY_NAME, SUMMARY_NAME

RUNS_FOLDER = "runs"
OVERRIDES = Path(".hydra") / "overrides.yaml"
OVERRIDES_COPY = "overrides.yaml"
COPIED_NAMES = frozenset({SUMMARY_NAME, IDENTITY_NAME, OVERRIDES_COPY, "metrics.csv"})
FULL_METRICS_BYTES = 2**20  # a larger metrics.csv is copied as its validation rows only
KEPT_PARTS = 3  # <task>/<label>[-<tag>]/seed<k>


@dataclass
class Copies:
    root: Path  # the folder the report is built from
    sources: dict[str, str] = field(default_factory=dict)  # copy's summary -> original's
    written: list[Path] = field(default_factory=list)  # files written (changed or new)
    removed: list[Path] = field(default_factory=list)  # stale copies removed

    def source(self, path: str) -> str:
        """The summary's path under the runs root for its copy's path (itself in a rebuild)."""
        return self.sources.get(path, path)


def within(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def copies_under(runs_dir: Path, out: Path) -> Callable[[Path], bool] | None:
    """For a runs root that holds the report folders (`--runs results --out results`): a
    test for a summary.json that is one of the report's copies (left out, else it would be
    reported twice and copied into itself); None when the runs root cannot hold them."""
    runs_root, out_root = runs_dir.resolve(), out.resolve()
    if not within(out_root, runs_root):
        return None

    def is_copy(path: Path) -> bool:
        try:
            parts = path.resolve().relative_to(out_root).parts
        except ValueError:
            return False
        if len(parts) < 3 or parts[1] != RUNS_FOLDER:
            return False
        return not within(runs_root, out_root / parts[0] / RUNS_FOLDER)

    return is_copy


def copy_runs(runs_dir: Path, folder: Path, summaries: list[str]) -> Copies:
    """Copy the runs whose summaries (paths under `runs_dir`) the report of `folder` is
    built from into `folder/runs/`, remove stale copies; where to build the report from."""
    copies = folder / RUNS_FOLDER
    if within(runs_dir, copies):  # a rebuild from the copies: nothing to copy onto itself
        return Copies(runs_dir)
    places = destinations([PurePosixPath(path).parent for path in summaries])
    result = Copies(copies)
    kept: set[Path] = set()
    for path in sorted(summaries):
        run, place = PurePosixPath(path).parent, places[PurePosixPath(path).parent]
        files = run_files(runs_dir / run, runs_dir / path, top=run == PurePosixPath("."))
        if files is None:  # the summary itself cannot be read: nothing to copy
            continue
        result.sources[(PurePosixPath(RUNS_FOLDER) / place / SUMMARY_NAME).as_posix()] = path
        for name, data in files.items():
            target = copies / place / name
            kept.add(target)
            if not target.is_file() or target.read_bytes() != data:
                result.written.append(atomic.write_bytes(target, data))
    result.removed = remove_stale(copies, kept)
    return result


def destinations(runs: list[PurePosixPath]) -> dict[PurePosixPath, PurePosixPath]:
    """Each run folder's place under `runs/`: its last three parts, or its whole path when
    another run folder ends in the same three (a copy of a copy goes to the same place)."""
    tails = {run: PurePosixPath(*run.parts[-KEPT_PARTS:]) for run in runs}
    shared = Counter(tails.values())
    return {run: tails[run] if shared[tails[run]] == 1 else run for run in runs}


def run_files(run_dir: Path, summary: Path, *, top: bool) -> dict[str, bytes] | None:
    """{name in the copy: bytes}; None when the summary cannot be read. `top`: the summary
    lies in the runs root itself, which is no run's folder (only it is copied)."""
    try:
        files = {SUMMARY_NAME: summary.read_bytes()}
    except OSError:
        return None
    if top:
        return files
    overrides = run_dir / OVERRIDES
    if not overrides.is_file():  # a copy's, when the runs root is itself a copy
        overrides = run_dir / OVERRIDES_COPY
    for name, path in ((IDENTITY_NAME, run_dir / IDENTITY_NAME), (OVERRIDES_COPY, overrides)):
        if path.is_file():
            try:
                files[name] = path.read_bytes()
            except OSError:
                pass
    for metrics in (metrics_file(run_dir), run_dir / PRETRAIN_METRICS):  # + the self-pretraining's
        if metrics is not None and metrics.is_file():
            try:
                files[metrics.relative_to(run_dir).as_posix()] = curve_rows(metrics.read_bytes())
            except OSError:
                pass
    return files


def curve_rows(data: bytes) -> bytes:
    """metrics.csv as it is, or over FULL_METRICS_BYTES its header and the rows that hold a
    validation metric (the training rows, logged every few steps, are most of the file)."""
    if len(data) <= FULL_METRICS_BYTES:
        return data
    try:
        lines = data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return data
    header = next(csv.reader(io.StringIO(lines[0]))) if lines else []
    validation = [i for i, name in enumerate(header) if name.startswith(("val/", "pretrain_val/"))]
    kept = lines[:1]
    for line in lines[1:]:
        cells = next(csv.reader(io.StringIO(line)), [])
        if any(i < len(cells) and cells[i] != "" for i in validation):
            kept.append(line)
    return "".join(kept).encode("utf-8")


def remove_stale(copies: Path, kept: set[Path]) -> list[Path]:
    """Remove the files of the copied names under `copies` that no run of the report has,
    then the folders they leave empty; the files removed."""
    if not copies.is_dir():
        return []
    removed = []
    for path in sorted(copies.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name in COPIED_NAMES and path not in kept:
            path.unlink()
            removed.append(path)
    folders = sorted((p for p in copies.rglob("*") if p.is_dir() and not p.is_symlink()),
                     key=lambda p: len(p.parts), reverse=True)
    for path in folders:
        if not any(path.iterdir()):
            path.rmdir()
    return removed
