"""The ListOps generator: LRA's law, checked by an independent evaluator."""

import statistics

import pytest

from macformer.data import build_dataset
from macformer.data.generators.listops import generate_listops, main

OPERATORS = {"[MIN", "[MAX", "[MED", "[SM"}


def evaluate(expression: str):
    """Value, length (operators, `]`, digits), depth and widest argument list of one
    expression, recomputed from its text with a stack."""
    stack, depth, widest, length = [], 0, 0, 0
    for token in expression.split():
        if token in ("(", ")"):
            continue
        length += 1
        if token in OPERATORS:
            stack.append([token])
            depth = max(depth, len(stack))
        elif token == "]":
            op, *args = stack.pop()
            widest = max(widest, len(args))
            value = {"[MIN": min, "[MAX": max, "[SM": lambda a: sum(a) % 10,
                     "[MED": lambda a: int(statistics.median(a))}[op](args)
            if not stack:
                return value, length, depth, widest
            stack[-1].append(value)
        else:
            if not stack:
                return int(token), length, depth, widest
            stack[-1].append(int(token))
    raise AssertionError(f"unbalanced expression {expression[:80]}")


def read(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "Source\tTarget"
    return [(e, int(v)) for e, v in (line.split("\t") for line in lines[1:])]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("listops")
    folder = generate_listops(out, 300, 40, 40, seed=3, workers=1, progress=False)
    return out, folder


def test_law_labels_lengths_and_distinctness(generated):
    _, folder = generated
    splits = {s: read(folder / f"basic_{s}.tsv") for s in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [300, 40, 40]
    everything = [e for rows in splits.values() for e, _ in rows]
    assert len(set(everything)) == len(everything)  # distinct, so no overlap between splits
    lengths = []
    for expression, label in sum(splits.values(), []):
        value, length, depth, widest = evaluate(expression)
        assert value == label
        assert 500 < length < 2000 and depth <= 10 and widest <= 10
        lengths.append(length)
    # LRA's law gives a mean length near 1,050 (±15 at this sample size).
    assert 950 < statistics.mean(lengths) < 1150
    labels = {label for _, label in splits["train"]}
    assert len(labels) >= 8


def test_pair_serialisation_as_lra(generated):
    _, folder = generated
    expression, _ = read(folder / "basic_val.tsv")[0]
    tokens = expression.split()
    assert tokens[0] == "(" and tokens[-2:] == ["]", ")"]
    assert tokens.count("(") == tokens.count(")")
    # Each operator with k arguments writes k + 1 opening parentheses before it.
    assert tokens.index(next(t for t in tokens if t in OPERATORS)) >= 3


def test_same_seed_same_files_whatever_the_workers(generated, tmp_path):
    _, folder = generated
    main(["--out", str(tmp_path), "--train", "300", "--val", "40", "--test", "40", "--seed", "3",
          "--workers", "2", "--no-progress"])
    for split in ("train", "val", "test"):
        assert (tmp_path / "listops-1000" / f"basic_{split}.tsv").read_bytes() == (folder / f"basic_{split}.tsv").read_bytes()


def test_readers_read_the_generated_set(generated):
    out, _ = generated
    data_dir = out.parent / (out.name + "-data")
    (data_dir / "lra_release").mkdir(parents=True)
    (data_dir / "lra_release" / "listops-1000").symlink_to(out / "listops-1000")
    rows = build_dataset("listops", "val", data_dir, progress=False)
    assert len(rows) == 40 and max(len(r) for r in rows["input_ids"]) < 2000
    assert rows["label"] == [v for _, v in read(out / "listops-1000" / "basic_val.tsv")]


def test_refuses_to_overwrite_a_release(tmp_path):
    folder = tmp_path / "listops-1000"
    folder.mkdir()
    (folder / "basic_train.tsv").write_text("Source\tTarget\n")
    with pytest.raises(FileExistsError, match="not generated here"):
        generate_listops(tmp_path, 1, 1, 1, seed=0, workers=1, progress=False)
