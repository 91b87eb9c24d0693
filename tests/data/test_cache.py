"""The processed cache: built once, reused, rebuilt when the source changes."""

import os
import time

from lra_fixtures import write_listops, write_pathfinder

from macformer.data import build_dataset


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
