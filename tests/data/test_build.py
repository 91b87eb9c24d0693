"""build_dataset on small sources in the real formats: counts, labels, tokens, caps, splits."""

import re

import numpy as np
import pytest
from lra_fixtures import (
    LISTOPS_ROWS,
    aan_row,
    save_cifar,
    save_imdb,
    write_aan,
    write_listops,
    write_pathfinder,
)
from PIL import Image

from macformer.data import MalformedDataError, MissingDataError, build_dataset, task_spec
from macformer.data.tasks import LISTOPS_TOKEN_IDS


def test_listops_tokens_and_labels(release_root):
    data_dir, root = release_root
    write_listops(root)
    rows = build_dataset("listops", "train", data_dir, progress=False)
    assert len(rows) == len(LISTOPS_ROWS)
    assert rows["label"] == [v for _, v in LISTOPS_ROWS]
    ids = LISTOPS_TOKEN_IDS
    # `( ( ( [MAX 2 ) 9 ) ] )`: parentheses dropped, `]` kept as a token.
    assert rows[0]["input_ids"] == [ids["[MAX"], ids["2"], ids["9"], ids["]"]]
    assert min(min(r) for r in rows["input_ids"]) >= 1  # 0 is padding


def test_retrieval_pairs_float_labels_and_split_files(release_root):
    data_dir, root = release_root
    write_aan(root, n_rows=(3, 2, 4))
    counts = {s: len(build_dataset("retrieval", s, data_dir, progress=False)) for s in ("train", "val", "test")}
    assert counts == {"train": 3, "val": 2, "test": 4}  # val reads the `eval` file
    rows = build_dataset("retrieval", "train", data_dir, progress=False)
    assert rows["label"] == [0, 1, 0]
    assert rows[1]["input_ids"] == [ord("a") + 1] * 6
    assert rows[0]["input_ids_pair"] == list(np.frombuffer(("\u00e9" * 3).encode(), np.uint8) + 1)


def test_retrieval_caps_at_10000_bytes_then_4000_tokens(tmp_path):
    root = tmp_path / "lra_release" / "lra_release"
    folder = write_aan(root)
    long = bytes(range(32, 127)) * 120  # 11,400 bytes, no tab or newline
    (folder / "new_aan_pairs.train.tsv").write_bytes(aan_row("1.0", long, b"short"))
    row = build_dataset("retrieval", "train", tmp_path, progress=False)[0]
    assert len(row["input_ids"]) == 4000 and row["input_ids"] == list(np.frombuffer(long[:4000], np.uint8) + 1)
    assert len(row["input_ids_pair"]) == 5


def test_text_bytes_cap_and_val_is_test(tmp_path):
    save_imdb(tmp_path, n_train=6, n_test=4)
    import datasets

    saved = datasets.load_from_disk(str(tmp_path / "imdb"))
    long_text = "\u00e9" * 3000  # 6000 UTF-8 bytes
    train = datasets.Dataset.from_dict({"text": [long_text], "label": [1]}, features=saved["train"].features)
    datasets.DatasetDict({"train": train, "test": saved["test"]}).save_to_disk(str(tmp_path / "imdb2"))
    rows = build_dataset("text", "train", tmp_path, progress=False)
    assert len(rows) == 6 and rows["label"] == [0, 1, 0, 1, 0, 1]
    assert rows[0]["input_ids"] == list(np.frombuffer(saved["train"][0]["text"].encode(), np.uint8) + 1)
    val, test = (build_dataset("text", s, tmp_path, progress=False) for s in ("val", "test"))
    assert len(val) == len(test) == 4 and val["input_ids"] == test["input_ids"]
    # The cap: a 6000-byte review keeps its first 4000 bytes.
    other = tmp_path / "other"
    other.mkdir()
    (tmp_path / "imdb2").rename(other / "imdb")
    capped = build_dataset("text", "train", other, progress=False)[0]["input_ids"]
    assert capped == list(np.frombuffer(long_text.encode()[:4000], np.uint8) + 1)


def test_image_grayscale_and_90_10_split(tmp_path):
    save_cifar(tmp_path, n_train=20, n_test=5)
    counts = {s: len(build_dataset("image", s, tmp_path, progress=False)) for s in ("train", "val", "test")}
    assert counts == {"train": 18, "val": 2, "test": 5}
    import datasets

    source = datasets.load_from_disk(str(tmp_path / "cifar10"))["train"]
    val = build_dataset("image", "val", tmp_path, progress=False)
    rgb = np.asarray(source[18]["img"], dtype=np.float64)
    # ITU-R 601-2 luma, rounded as PIL does.
    luma = np.floor(rgb @ np.array([0.299, 0.587, 0.114]) + 0.5).astype(int).ravel()
    got = np.array(val[0]["input_ids"]) - 1
    assert len(got) == 1024 and np.abs(got - luma).max() <= 1
    assert val["label"] == [source[18]["label"], source[19]["label"]]


def test_pathfinder_skips_and_counts_empty_images(release_root, caplog):
    data_dir, root = release_root
    write_pathfinder(root, n=40, empty=(0, 7))
    sizes = {}
    with caplog.at_level("WARNING", logger="macformer.data"):
        for split in ("train", "val", "test"):
            sizes[split] = len(build_dataset("pathfinder", split, data_dir, progress=False))
    assert sum(sizes.values()) == 39  # one empty PNG skipped
    assert (sizes["val"], sizes["test"]) in {(4, 4), (3, 4), (4, 3)} and sizes["train"] in (31, 32)
    assert "skipped 1 unreadable" in caplog.text and "sample_7.png" in caplog.text
    rows = build_dataset("pathfinder", "train", data_dir, progress=False)
    assert all(len(r) == 1024 for r in rows["input_ids"])
    # Pixels are tokens: the first image read back equals its PNG plus one.
    folder = root / "pathfinder32" / "curv_contour_length_14"
    pixels = {tuple(np.asarray(Image.open(p)).ravel().astype(int) + 1) for p in (folder / "imgs" / "0").glob("*.png") if p.stat().st_size}
    assert tuple(rows[0]["input_ids"]) in pixels


def test_pathx_reads_128_px(tmp_path):
    root = tmp_path / "lra_release" / "lra_release"
    write_pathfinder(root, name="pathfinder128", side=128, n=10, empty=None)
    rows = [build_dataset("pathx", s, tmp_path, progress=False) for s in ("train", "val", "test")]
    assert [len(r) for r in rows] == [8, 1, 1]
    assert len(rows[0][0]["input_ids"]) == 16384 == task_spec("pathx").seq_len


def test_pathfinder_split_is_seeded_and_independent_of_file_order(tmp_path):
    from macformer.data.readers.pathfinder_images import split_entries

    entries = [(f"imgs/{k} sample_{i}.png", i % 2) for k in range(3) for i in range(100)]
    splits = {s: split_entries(entries, s, seed=0) for s in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [240, 30, 30]
    assert sorted(sum(splits.values(), [])) == sorted(entries)
    shuffled = list(reversed(entries))
    assert all(split_entries(shuffled, s, seed=0) == splits[s] for s in splits)
    assert split_entries(entries, "val", seed=1) != splits["val"]
    # A fixed expectation: the split must not drift between machines or versions.
    assert splits["test"][0] == split_entries(entries, "test", seed=0)[0]


def test_malformed_rows_name_file_and_line(release_root):
    data_dir, root = release_root
    folder = write_listops(root)
    bad = folder / "basic_val.tsv"
    bad.write_text("Source\tTarget\n( ( [MAX 2 ) 9 ] )\t9\n( [MAX 2 ]\tnine\n")
    with pytest.raises(MalformedDataError, match=r"basic_val\.tsv:3: label 'nine' is not an integer"):
        build_dataset("listops", "val", data_dir, progress=False)
    rows = build_dataset("listops", "val", data_dir, progress=False, skip_malformed=True)
    assert len(rows) == 1

    aan = write_aan(root) / "new_aan_pairs.test.tsv"
    aan.write_bytes(aan_row("1.0", b"a", b"b") + b"0.0\tonly\tthree\n")
    with pytest.raises(MalformedDataError, match=r"new_aan_pairs\.test\.tsv:2: expected 5 tab-separated columns, got 3"):
        build_dataset("retrieval", "test", data_dir, progress=False)
    aan.write_bytes(aan_row("x", b"a", b"b"))
    with pytest.raises(MalformedDataError, match=r"new_aan_pairs\.test\.tsv:1: label 'x' is not a number"):
        build_dataset("retrieval", "test", data_dir, progress=False)


def test_listops_unknown_token_and_missing_header(tmp_path):
    folder = write_listops(tmp_path / "lra_release")
    (folder / "basic_test.tsv").write_text("Source\tTarget\n( [MAX 2 [FOO ]\t2\n")
    with pytest.raises(MalformedDataError, match=r"basic_test\.tsv:2: unknown token '\[FOO'"):
        build_dataset("listops", "test", tmp_path, progress=False)
    (folder / "basic_test.tsv").write_text("( [MAX 2 ]\t2\n")
    with pytest.raises(MalformedDataError, match=r"basic_test\.tsv:1: expected the header"):
        build_dataset("listops", "test", tmp_path, progress=False)


def test_missing_sources_say_where_and_how(tmp_path):
    with pytest.raises(MissingDataError) as error:
        build_dataset("listops", "train", tmp_path, progress=False)
    message = str(error.value)
    assert str(tmp_path / "lra_release" / "lra_release" / "listops-1000") in message
    assert "python -m macformer.data.generators.listops --out" in message
    with pytest.raises(MissingDataError, match="lra_release.gz"):
        build_dataset("retrieval", "train", tmp_path, progress=False)
    with pytest.raises(MissingDataError, match="macformer.data.generators.pathfinder --out"):
        build_dataset("pathfinder", "train", tmp_path, progress=False)


def test_offline_hub_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingDataError, match=r"stanfordnlp/imdb.*make data"):
        build_dataset("text", "train", tmp_path, progress=False)
    with pytest.raises(MissingDataError, match=r"uoft-cs/cifar10"):
        build_dataset("image", "train", tmp_path, progress=False, download=False)


def test_a_byte_that_is_not_utf8_names_file_and_line(tmp_path):
    root = tmp_path / "lra_release"
    bad = write_listops(root) / "basic_train.tsv"
    lines = bad.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"[MIN", b"[M\xefN")  # a Latin-1 byte on line 3
    bad.write_bytes(b"".join(lines))
    with pytest.raises(MalformedDataError, match=rf"^{re.escape(str(bad))}:3: byte 0xef at column 11 is not UTF-8"):
        build_dataset("listops", "train", tmp_path, progress=False)
    assert len(build_dataset("listops", "train", tmp_path, progress=False, skip_malformed=True)) == 2
    bad.write_bytes(b"Source\xff\tTarget\n")
    with pytest.raises(MalformedDataError, match=r"basic_train\.tsv:1: byte 0xff at column 7 is not UTF-8"):
        build_dataset("listops", "train", tmp_path, progress=False)
    # Retrieval is byte-level: such a byte in a text is a token (its value + 1).
    aan = write_aan(root) / "new_aan_pairs.test.tsv"
    aan.write_bytes(aan_row("1.0", b"a" * 2999 + b"\xff", b"b"))
    assert build_dataset("retrieval", "test", tmp_path, progress=False)[0]["input_ids"][2999] == 0xFF + 1


def test_binary_npy_metadata_is_refused_with_the_expected_format(tmp_path):
    folder = write_pathfinder(tmp_path / "lra_release", n=10, empty=None)
    meta = folder / "metadata" / "0.npy"
    np.save(meta, np.array([["imgs/0", "sample_0.png", "0", "1"]]))
    with pytest.raises(MalformedDataError,
                       match=rf"^{re.escape(str(meta))}: a binary numpy array file, .*the LRA text format"):
        build_dataset("pathfinder", "train", tmp_path, progress=False)
    meta.write_bytes(b"imgs/0 sample_0.png 0 1\nimgs/0 sample_\xe91.png 1 0\n")
    with pytest.raises(MalformedDataError, match=r"0\.npy:2: byte 0xe9 at column 15 is not UTF-8; expected the LRA text"):
        build_dataset("pathfinder", "train", tmp_path, progress=False)
