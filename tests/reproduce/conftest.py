import pytest
from reproduce_helpers import reproduce


@pytest.fixture(scope="session")
def one_after_the_other(tmp_path_factory):
    """The small sweep run one job at a time (with its report and calibration cache): the
    reference the other ways of running it are held to. (root folder, driver output)"""
    root = tmp_path_factory.mktemp("jobs1")
    out = reproduce(root / "data", root / "results", "--jobs", "1")
    return root, out
