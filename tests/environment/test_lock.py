"""requirements.lock agrees with pyproject.toml: every requirement of the runtime and the dev
extra (torch aside: the Makefile installs it first from TORCH_SPEC) is met by its pin, every pin
is reached from pyproject, and every pin carries a hash for pip's --require-hashes mode.
Offline: it reads the two files and the lock's `# via` annotations, nothing else."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the lock brings tomli there (pytest's own)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "macformer-lra (pyproject.toml)"
# Installed by the Makefile before the lock, in the build TORCH_SPEC picks; the lock is
# resolved beside it, so its own dependencies are annotated `via torch`.
TORCH = "torch"
CUDA_ONLY = re.compile(r"^(nvidia|cuda)-")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(;(?P<marker>[^\\]+))?")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: int = 0
    via: list[str] = field(default_factory=list)
    line: str = ""


def parse_lock(text: str) -> list[Pin]:
    """One Pin per requirement block: its `name==version ; marker` line, the `--hash` lines
    continuing it and the `# via` annotations after it (one parent inline or one per line)."""
    pins: list[Pin] = []
    block: Pin | None = None  # None in the header and after a blank line (uv's trailer)
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            block = None
        elif line.startswith("--hash="):
            block.hashes += len(HASH.findall(line))
        elif line.startswith("#"):
            parent = line.lstrip("#").strip().removeprefix("via").strip()
            if block and parent:
                block.via.append(parent)
        else:
            match = PIN.match(line)
            assert match, f"not an exact pin: {line}"
            marker = match["marker"] and Marker(match["marker"].strip())
            block = Pin(canonicalize_name(match["name"]), Version(match["version"]),
                        marker or None, len(HASH.findall(line)), line=line)
            pins.append(block)
    return pins


def project_requirements(pyproject: dict) -> list[Requirement]:
    """The runtime dependencies and the dev extra, torch left out."""
    project = pyproject["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != TORCH]


def applies(marker: Marker | None, extra: str = "dev") -> bool:
    return marker is None or marker.evaluate({**default_environment(), "extra": extra})


def unhashed(pins: list[Pin]) -> list[str]:
    return [p.line for p in pins if p.hashes == 0]


def unsatisfied(requirements: list[Requirement], pins: list[Pin]) -> list[str]:
    """Each requirement's problem: no pin, a pin (of any platform's fork) outside its range,
    or not exactly one pin for this interpreter where the requirement applies here."""
    problems = []
    for req in requirements:
        own = [p for p in pins if p.name == canonicalize_name(req.name)]
        if not own:
            problems.append(f"{req}: not in the lock")
        problems += [f"{req}: locked {p.version}" for p in own
                     if not req.specifier.contains(p.version, prereleases=True)]
        here = [p for p in own if applies(p.marker)]
        if applies(req.marker) and len(here) != 1:
            problems.append(f"{req}: {len(here)} pins apply on this interpreter")
    return problems


def unreachable(requirements: list[Requirement], pins: list[Pin]) -> list[str]:
    """Stale pins: one the lock says pyproject asks for but pyproject does not, one with a
    parent that is neither locked nor torch, or one no chain of parents leads to from pyproject."""
    direct = {canonicalize_name(r.name) for r in requirements}
    locked = {p.name for p in pins}
    problems = [f"{p.name}: via pyproject, which does not require it" for p in pins
                if PROJECT in p.via and p.name not in direct]
    problems += [f"{p.name}: via {parent}, which is not locked" for p in pins for parent in p.via
                 if parent != PROJECT and canonicalize_name(parent) not in locked | {TORCH}]
    reached, frontier = set(), direct | {TORCH}
    while frontier:
        reached |= frontier
        frontier = {p.name for p in pins if p.name not in reached
                    and any(canonicalize_name(v) in reached for v in p.via if v != PROJECT)}
    problems += [f"{name}: reached from nothing pyproject requires"
                 for name in sorted(locked - reached)]
    return problems


def real() -> tuple[list[Requirement], list[Pin]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return project_requirements(pyproject), parse_lock((ROOT / "requirements.lock").read_text())


def test_every_pin_has_a_hash():
    requirements, pins = real()
    assert len(pins) > len(requirements)
    assert unhashed(pins) == []


def test_torch_and_its_cuda_only_dependencies_are_left_to_torch_spec():
    _, pins = real()
    assert [p.name for p in pins if p.name == TORCH or CUDA_ONLY.match(p.name)] == []


def test_every_pyproject_requirement_is_met_by_its_pin():
    assert unsatisfied(*real()) == []


def test_every_pin_is_reached_from_pyproject():
    assert unreachable(*real()) == []


def test_the_checks_catch_a_lock_that_disagrees():
    requirements, pins = real()
    pandas = next(p for p in pins if p.name == "pandas" and applies(p.marker))
    pandas.version, pandas.hashes = Version("1.5.0"), 0
    assert unhashed(pins) == [pandas.line]
    assert any(m.startswith("pandas>=") and "locked 1.5.0" in m
               for m in unsatisfied(requirements, pins))
    # A requirement leaves pyproject, the lock is not refreshed: its pin is stale.
    only_direct = next(p for p in pins if p.via == [PROJECT])
    fewer = [r for r in requirements if canonicalize_name(r.name) != only_direct.name]
    stale = unreachable(fewer, pins)
    assert f"{only_direct.name}: via pyproject, which does not require it" in stale
    assert f"{only_direct.name}: reached from nothing pyproject requires" in stale
    # A parent the lock lost.
    pandas.via.append("polars")
    assert "pandas: via polars, which is not locked" in unreachable(requirements, pins)
    # A requirement the lock lacks.
    missing = unsatisfied([*requirements, Requirement("einops>=0.7")], pins)
    assert "einops>=0.7: not in the lock" in missing
