"""A set is written beside the old one and swapped in at the end: a generator killed
with SIGKILL mid-way leaves the old set intact, and the next run cleans up and works."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from macformer.data.generators.pathfinder import generate_pathfinder, partial_folder
from macformer.data.readers.pathfinder_images import read_entries


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sigkill_mid_way_keeps_the_old_set(tmp_path):
    folder = tmp_path / "generated" / "pf"
    generate_pathfinder(folder=folder, size=16, contour_length=3, count=40, seed=1, workers=1, progress=False)
    old = _snapshot(folder)
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "macformer.data.generators.pathfinder", "--folder", str(folder), "--size", "16",
         "--contour-length", "3", "--count", "20000", "--seed", "2", "--workers", "1", "--no-progress"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = partial_folder(folder)
    deadline = time.monotonic() + 120
    try:
        # Wait until the new set is being written (images under the temporary folder).
        while len(list(partial.glob("imgs/0/*.png"))) < 20:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the generator wrote no images in 120 s"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert partial.is_dir()  # what the killed run left
    assert _snapshot(folder) == old
    assert len(read_entries(folder)) == 40

    again = generate_pathfinder(folder=folder, size=16, contour_length=3, count=30, seed=2, workers=1,
                                progress=False)
    assert again == folder and not partial.exists()
    assert json.loads((folder / "GENERATED.json").read_text())["count"] == 30
    assert len(read_entries(folder)) == 30 and len(list(folder.glob("imgs/0/*.png"))) == 30
    assert sorted(p.name for p in folder.parent.iterdir()) == ["pf"]


def test_a_failed_run_removes_its_temporary_folder_and_keeps_the_old_set(tmp_path):
    folder = tmp_path / "pf"
    generate_pathfinder(folder=folder, size=16, contour_length=3, count=20, seed=1, workers=1, progress=False)
    old = _snapshot(folder)
    with pytest.raises(ValueError, match="did not fit"):
        generate_pathfinder(folder=folder, size=16, contour_length=40, count=5, workers=1, progress=False)
    assert _snapshot(folder) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pf"]


def test_an_interrupted_older_run_is_still_refused_with_a_way_out(tmp_path):
    """What an earlier generator left after a kill -9 (images, empty metadata, no
    marker) cannot be told from a release being unpacked: refused, never deleted."""
    folder = tmp_path / "pathfinder32" / "curv_contour_length_14"
    (folder / "imgs" / "0").mkdir(parents=True)
    (folder / "metadata").mkdir()
    with pytest.raises(FileExistsError, match="not generated here .* delete it yourself"):
        generate_pathfinder(tmp_path, count=2, workers=1, progress=False)
    assert (folder / "imgs" / "0").is_dir()
