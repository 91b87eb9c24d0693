"""Fixtures for the run-integrity tests: generated ListOps data, shared by the session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))  # training_helpers

from integrity_helpers import generate_listops  # noqa: E402


@pytest.fixture(scope="session")
def listops_data(tmp_path_factory) -> Path:
    """A data folder with smoke-size ListOps, generated once."""
    return generate_listops(tmp_path_factory.mktemp("listops_data"))
