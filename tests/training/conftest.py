"""Fixture data for the training tests (see training_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import data_writers


@pytest.fixture(scope="session")
def lra_data(tmp_path_factory) -> Path:
    """A data folder with tiny Text (IMDb), Retrieval (AAN) and Image (CIFAR-10) sources.
    ListOps, Pathfinder and Path-X are absent on purpose: the runs generate them."""
    writers = data_writers()
    data_dir = tmp_path_factory.mktemp("lra_data")
    writers.save_imdb(data_dir, n_train=24, n_test=16)
    writers.write_aan(data_dir / "lra_release", n_rows=(24, 16, 16))
    writers.save_cifar(data_dir, n_train=40, n_test=16)
    return data_dir
