import os

import pytest
import torch

# Tests are small: two threads match the CI machine and keep timings stable.
torch.set_num_threads(min(2, os.cpu_count() or 1))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: an end-to-end test of a whole command (a sweep, a CLI run in a fresh "
                   "process, a generator at real size); `make test` skips them, `make test-all` "
                   "and CI run them")


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)
