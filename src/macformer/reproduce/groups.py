"""The sweep groups: conf/sweep/<name>.yaml, each a list of rows on a list of tasks.

A row entry names an attention and, for one with a kernel, the kernels it runs with
(one row each), `ppsbn: false` for the ppSBN ablation, `causal: false` for the
non-causal form and `pretrain: mlm|lm` for self-pretraining first; the row's name is the
run's label, the folder its runs land in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from macformer.config import CONFIG_DIR

SWEEP_DIR = CONFIG_DIR / "sweep"
GROUPS = tuple(sorted(p.stem for p in SWEEP_DIR.glob("*.yaml")))


@dataclass(frozen=True)
class Row:
    name: str  # the table row, e.g. "rmfa-inverse-noppsbn-causal"
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    name: str
    about: str
    tasks: tuple[str, ...]
    rows: tuple[Row, ...]


def load_group(name: str, make_row: Callable[..., Row]) -> Group:
    """conf/sweep/<name>.yaml as a Group; make_row(attention, kernel, ppsbn, causal, pretrain) names a row."""
    from omegaconf import OmegaConf

    path = SWEEP_DIR / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown sweep {name!r}; choose from {', '.join(GROUPS)} ({SWEEP_DIR})")
    spec = OmegaConf.to_container(OmegaConf.load(path))
    rows = []
    for entry in spec["rows"]:
        unknown = set(entry) - {"attention", "kernels", "ppsbn", "causal", "pretrain"}
        if unknown:
            raise ValueError(f"{path}: row {entry}: unknown keys {sorted(unknown)}")
        for kernel in entry.get("kernels") or [None]:
            rows.append(make_row(entry["attention"], kernel, entry.get("ppsbn", True),
                                 entry.get("causal", True), entry.get("pretrain")))
    return Group(name, spec.get("about", ""), tuple(spec["tasks"]), tuple(rows))


def group_sizes(make_row) -> list[tuple[str, int, int, str]]:
    """(name, rows, tasks, about) of every group, for --help and the README."""
    out = []
    for name in GROUPS:
        group = load_group(name, make_row)
        out.append((name, len(group.rows), len(group.tasks), group.about))
    return out
