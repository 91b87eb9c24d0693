import pytest


@pytest.fixture(params=["double", "single"])
def release_root(request, tmp_path):
    """(data_dir, release root) for both nestings of the unpacked archive."""
    data_dir = tmp_path / "data"
    root = data_dir / "lra_release" / "lra_release" if request.param == "double" else data_dir / "lra_release"
    root.mkdir(parents=True)
    return data_dir, root
