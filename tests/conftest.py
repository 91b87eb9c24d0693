import os

import pytest
import torch

# Tests are small: two threads match the CI machine and keep timings stable.
torch.set_num_threads(min(2, os.cpu_count() or 1))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)
