"""The processed cache: built once, reused, rebuilt when the source changes."""

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from lra_fixtures import LISTOPS_ROWS, write_listops, write_pathfinder
from PIL import Image

from macformer.data import MalformedDataError, build_dataset


def _cache_dirs(data_dir, task):
    return sorted(p.name for p in (data_dir / "processed" / task).iterdir() if not p.name.startswith("."))


def test_second_build_reads_the_cache(tmp_path):
    write_listops(tmp_path / "lra_release")
    first = build_dataset("listops", "train", tmp_path, progress=False)
    shard = first.cache_files[0]["filename"]
    assert str(tmp_path / "processed" / "listops") in shard
    stamp = os.stat(shard).st_mtime_ns
    second = build_dataset("listops", "train", tmp_path, progress=False)
    assert second.cache_files[0]["filename"] == shard and os.stat(shard).st_mtime_ns == stamp
    assert second["input_ids"] == first["input_ids"]


def test_changed_source_is_rebuilt_and_old_copy_removed(tmp_path):
    folder = write_listops(tmp_path / "lra_release")
    build_dataset("listops", "test", tmp_path, progress=False)
    before = _cache_dirs(tmp_path, "listops")
    time.sleep(0.01)
    (folder / "basic_test.tsv").write_text("Source\tTarget\n( ( ( [MIN 3 ) 1 ) ] )\t1\n")
    rows = build_dataset("listops", "test", tmp_path, progress=False)
    assert rows["label"] == [1]
    after = _cache_dirs(tmp_path, "listops")
    assert len(after) == 1 and after != before


def test_options_are_part_of_the_key(tmp_path):
    folder = write_listops(tmp_path / "lra_release")
    (folder / "basic_val.tsv").write_text("Source\tTarget\n( [MAX 2 ]\tx\n( ( ( [MIN 3 ) 1 ) ] )\t1\n")
    assert len(build_dataset("listops", "val", tmp_path, progress=False, skip_malformed=True)) == 1
    keys = _cache_dirs(tmp_path, "listops")
    assert all(k.startswith("val-") for k in keys) and len(keys) == 1


def test_parallel_build_matches_serial(tmp_path):
    root = tmp_path / "lra_release"
    write_pathfinder(root, n=60, empty=None)
    import macformer.data.build as build

    serial = build_dataset("pathfinder", "train", tmp_path, progress=False)
    other = tmp_path / "copy"
    write_pathfinder(other / "lra_release", n=60, empty=None)
    old = build.IMAGES_PER_JOB
    build.IMAGES_PER_JOB = 10
    try:
        parallel = build_dataset("pathfinder", "train", other, progress=False, num_proc=2)
    finally:
        build.IMAGES_PER_JOB = old
    assert len(parallel.cache_files) == 5
    assert parallel["input_ids"] == serial["input_ids"] and parallel["label"] == serial["label"]


def test_restored_pathfinder_images_rebuild_the_split(tmp_path):
    """The key covers the images a split reads, not only the metadata."""
    folder = write_pathfinder(tmp_path / "lra_release", n=20, empty=None)
    images = folder / "imgs"
    aside = tmp_path / "aside"
    images.rename(aside)
    with pytest.raises(MalformedDataError, match=r"no examples in .*metadata \(pathfinder train split\): all 16 item"):
        build_dataset("pathfinder", "train", tmp_path, progress=False)
    aside.rename(images)
    full = build_dataset("pathfinder", "train", tmp_path, progress=False)
    assert len(full) == 16
    # Some images gone, then back: the split is read again each time.
    moved = sorted((images / "0").glob("*.png"))[:10]
    for path in moved:
        path.rename(tmp_path / path.name)
    partial = len(build_dataset("pathfinder", "train", tmp_path, progress=False))
    assert 0 < partial < 16
    for path in moved:
        (tmp_path / path.name).rename(path)
    assert len(build_dataset("pathfinder", "train", tmp_path, progress=False)) == 16
    # An image replaced in place: its new pixels are read.
    first = full.cache_files[0]["filename"]
    old_ids = build_dataset("pathfinder", "train", tmp_path, progress=False)["input_ids"]
    time.sleep(0.01)
    for path in (images / "0").glob("*.png"):
        Image.fromarray(np.full((32, 32), 6, dtype=np.uint8), mode="L").save(path)
    new_ids = build_dataset("pathfinder", "train", tmp_path, progress=False)["input_ids"]
    assert new_ids != old_ids and all(ids == [7] * 1024 for ids in new_ids)
    assert not os.path.exists(first)


def test_a_shard_changed_on_disk_is_rebuilt_with_a_warning(tmp_path, caplog):
    write_listops(tmp_path / "lra_release")
    built = build_dataset("listops", "train", tmp_path, progress=False)
    shard = Path(built.cache_files[0]["filename"])
    expected = built.to_dict()  # lists, not views of the memory-mapped shard
    info = json.loads((shard.parent / "info.json").read_text())
    assert info["sha256"] == {shard.name: hashlib.sha256(shard.read_bytes()).hexdigest()}
    # The same trees with every digit and label a 7: an Arrow shard of the same size.
    sevens = [(expression.translate(str.maketrans("0123456789", "7" * 10)), 7) for expression, _ in LISTOPS_ROWS]
    other = tmp_path / "other"
    write_listops(other / "lra_release", rows=sevens)
    forged = Path(build_dataset("listops", "train", other, progress=False).cache_files[0]["filename"])
    assert forged.stat().st_size == shard.stat().st_size and forged.read_bytes() != shard.read_bytes()
    del built
    shutil.copyfile(forged, shard)
    with caplog.at_level("WARNING", logger="macformer.data"):
        rows = build_dataset("listops", "train", tmp_path, progress=False)
    assert rows.to_dict() == expected
    assert f"{shard} does not match the checksum recorded when it was built" in caplog.text
    assert "rebuilding listops train" in caplog.text
    # A shard that is gone is rebuilt too.
    os.remove(rows.cache_files[0]["filename"])
    caplog.clear()
    with caplog.at_level("WARNING", logger="macformer.data"):
        again = build_dataset("listops", "train", tmp_path, progress=False)
    assert again.to_dict() == expected and "is missing; rebuilding" in caplog.text


def test_a_split_without_examples_is_refused(tmp_path):
    folder = write_listops(tmp_path / "lra_release")
    empty = folder / "basic_test.tsv"
    empty.write_text("Source\tTarget\n")
    with pytest.raises(MalformedDataError, match=rf"^no examples in {re.escape(str(empty))} \(listops test split\)"):
        build_dataset("listops", "test", tmp_path, progress=False)
    assert not (tmp_path / "processed" / "listops").exists() or not _cache_dirs(tmp_path, "listops")
    # Every row malformed and skipped: the same refusal, with an example.
    empty.write_text("Source\tTarget\n( [MAX 2 ]\tnine\n")
    with pytest.raises(MalformedDataError, match=r"all 1 item\(s\) were skipped .*basic_test\.tsv:2"):
        build_dataset("listops", "test", tmp_path, progress=False, skip_malformed=True)
