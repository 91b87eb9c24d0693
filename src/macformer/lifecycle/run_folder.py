"""A run writes only inside its run folder: no symlink planted there is ever written through.

A run folder may come from someone else (a copy, a shared disk). Once the run holds its
lock and knows it will train, every symlink inside the folder (found without following
any) is removed, with one warning line naming it and its target; then the run's own
files are created afresh. Links above the run folder are not ours to judge (results/runs
may well be a link to a scratch disk), nor is the run folder itself. W&B's own links
(`wandb/latest-run`, `wandb/debug.log`, `wandb/*run-*/logs/debug-core.log`) stay: W&B
replaces them by name and never writes through them.
Temporary files of atomic writes whose writer died (kill -9) are removed too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from macformer import atomic

log = logging.getLogger(__name__)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # dangling, a loop
        return False


def _wandb_own(link: Path, run_dir: Path) -> bool:
    """W&B's links: latest-run and debug*.log (inside the folder), and each W&B run's
    logs/debug-core.log, which W&B points at the core log in its cache."""
    parts = link.relative_to(run_dir).parts
    if parts[0] != "wandb":
        return False
    core_log = len(parts) == 4 and parts[2:] == ("logs", "debug-core.log") and "run-" in parts[1]
    return _inside(link, run_dir) or core_log


def remove_planted_links(run_dir: str | os.PathLike) -> list[Path]:
    """Remove every symlink inside `run_dir` (except W&B's own), one warning line each."""
    run_dir = Path(run_dir)
    removed = []
    for parent, folders, files in os.walk(run_dir):  # never descends into a linked folder
        for name in folders + files:
            link = Path(parent) / name
            if not link.is_symlink() or _wandb_own(link, run_dir):
                continue
            target = os.readlink(link)
            link.unlink()
            removed.append(link)
            log.warning(f"removed the symlink {link} (to {target}): a run writes only inside its run "
                        f"folder, never through a link")
    return removed


def prepare_run_folder(run_dir: str | os.PathLike) -> None:
    """Before a run writes anything: no planted links, no orphaned temporary files."""
    remove_planted_links(run_dir)
    atomic.remove_orphans_in(run_dir)


def open_append(path: str | os.PathLike):
    """`path` (a log in a run folder) opened to append bytes, never through a symlink: one
    planted there is removed first, with one warning line, and O_NOFOLLOW closes the race."""
    path = Path(path)
    if path.is_symlink():
        target = os.readlink(path)
        path.unlink()
        log.warning(f"removed the symlink {path} (to {target}): a run writes only inside its run "
                    f"folder, never through a link")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    return os.fdopen(fd, "ab")
