"""Fixtures for the run-integrity tests: generated ListOps data, shared by the session."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))  # training_helpers

from integrity_helpers import generate_listops  # noqa: E402
from small_filesystem import tmpfs, tmpfs_problem  # noqa: E402


@pytest.fixture(scope="session")
def listops_data(tmp_path_factory) -> Path:
    """A data folder with smoke-size ListOps, generated once."""
    return generate_listops(tmp_path_factory.mktemp("listops_data"))


@pytest.fixture
def small_tmpfs(tmp_path):
    """small_tmpfs(name, size): a tmpfs of `size` at tmp_path/name, unmounted after the test.
    Skips (with the reason) only where no tmpfs can be mounted."""
    why = tmpfs_problem(tmp_path / "probe-mount")
    if why:
        pytest.skip(why)
    with contextlib.ExitStack() as mounts:
        yield lambda name, size: mounts.enter_context(tmpfs(tmp_path / name, size))
