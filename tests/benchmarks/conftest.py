import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the benchmarks/ package lives at the repository root
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def approximation_run(tmp_path_factory):
    """One quick run of benchmarks/approximation.py (its real entry point), shared by the tests."""
    from benchmarks import approximation

    out = tmp_path_factory.mktemp("toy")
    df, var_df = approximation.main(["--quick", "--out", str(out)])
    return out, df, var_df


@pytest.fixture(scope="session")
def speed_run(tmp_path_factory):
    """One quick run of benchmarks/attention_speed.py, shared by the tests."""
    from benchmarks import attention_speed

    out = tmp_path_factory.mktemp("bench")
    df = attention_speed.main(["--quick", "--out", str(out)])
    return out, df
