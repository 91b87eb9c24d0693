"""ListOps generator: LRA's tree law, drawn level by level with numpy.

LRA's generator recurses node by node in Python. The law is the same node by node
(each node independently: a digit with probability 0.75, else an operator with 2..10
children; depth capped at 10), so we draw a whole batch of trees one level at a time.
A tree whose length can no longer stay under 2000 is dropped as soon as that is
certain; dropping early does not change the law of the trees that are kept, since
every draw is independent.

Files: `<out>/listops-1000/basic_{train,val,test}.tsv`, header `Source\\tTarget`,
one `<expression>\\t<value>` per line, exactly as in the LRA release.

    python -m macformer.data.generators.listops --out data/lra_release --train 96000 --val 2000 --test 2000 --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from macformer.data.release import GENERATED_MARKER, LRA_FOLDERS

MAX_DEPTH = 10
MAX_ARGS = 10
BRANCH_PROB = 0.25  # LRA: a node is a digit if r > 0.25
MIN_LENGTH = 500  # exclusive bounds on the length (operators, `]` and digits)
MAX_LENGTH = 2000
OPERATORS = ("[MIN", "[MAX", "[MED", "[SM")
FOLDER = LRA_FOLDERS["listops"]
MARKER = GENERATED_MARKER
TREES_PER_BATCH = 20000

# Token codes of the serialised expression (LRA writes every pair as `( A B )`).
_OPEN, _CLOSE, _END = 0, 1, 2
_OP0 = 3  # operators are codes 3..6, digits 7..16
_DIGIT0 = _OP0 + len(OPERATORS)
_TOKEN_TEXT = np.array(["(", ")", "]", *OPERATORS, *(str(d) for d in range(10))], dtype=object)


def _segment_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _draw_levels(rng: np.random.Generator, n_trees: int, max_length: int = MAX_LENGTH):
    """Draw n_trees trees level by level; return per-level node arrays and the
    final lengths (trees already known to be too long get length max_length)."""
    tree = np.arange(n_trees)  # tree index of each node at this level
    length = np.zeros(n_trees, dtype=np.int64)
    alive = np.ones(n_trees, dtype=bool)
    levels = []
    for depth in range(1, MAX_DEPTH + 1):
        n = len(tree)
        if depth < MAX_DEPTH:
            is_op = rng.random(n) <= BRANCH_PROB
        else:
            is_op = np.zeros(n, dtype=bool)
        n_children = np.where(is_op, rng.integers(2, MAX_ARGS + 1, n), 0)
        # A leaf holds a digit, an operator its operator code; both drawn uniformly.
        symbol = np.where(is_op, _OP0 + rng.integers(0, 4, n), _DIGIT0 + rng.integers(0, 10, n))
        levels.append((tree, is_op, n_children, symbol))
        length += np.bincount(tree, weights=1 + is_op, minlength=n_trees).astype(np.int64)
        child_tree = np.repeat(tree, n_children)
        # Every pending child adds at least one token: a lower bound on the final length.
        bound = length + np.bincount(child_tree, minlength=n_trees)
        alive &= bound < max_length
        tree = child_tree[alive[child_tree]]
        if len(tree) == 0:
            break
    length[~alive] = max_length
    return levels, length


def _evaluate_and_serialise(levels, n_trees: int, keep: np.ndarray):
    """Values and token-code sequences of the kept trees (indices into the batch)."""
    kept = np.zeros(n_trees, dtype=bool)
    kept[keep] = True
    levels = [
        (tree[kept[tree]], is_op[kept[tree]], k[kept[tree]], sym[kept[tree]])
        for tree, is_op, k, sym in levels
        if len(tree) and kept[tree].any()
    ]
    # Bottom-up: value and token count (with parentheses) of every subtree.
    values, sizes = [None] * len(levels), [None] * len(levels)
    for d in range(len(levels) - 1, -1, -1):
        _, is_op, k, sym = levels[d]
        value = np.where(is_op, 0, sym - _DIGIT0)
        size = np.ones(len(k), dtype=np.int64)
        if is_op.any():
            child_value, child_size = values[d + 1], sizes[d + 1]
            op_k = k[is_op]
            starts = _segment_starts(op_k)
            mins = np.minimum.reduceat(child_value, starts)
            maxs = np.maximum.reduceat(child_value, starts)
            sums = np.add.reduceat(child_value, starts) % 10
            segment = np.repeat(np.arange(len(op_k)), op_k)
            ordered = child_value[np.lexsort((child_value, segment))]
            # Median of an even count is the mean of the two middle values, truncated.
            meds = (ordered[starts + (op_k - 1) // 2] + ordered[starts + op_k // 2]) // 2
            op = sym[is_op] - _OP0
            value[is_op] = np.choose(op, [mins, maxs, meds, sums])
            # ( x (k+1), operator, children each followed by ), then ] and ).
            size[is_op] = 2 * op_k + 4 + np.add.reduceat(child_size, starts)
        values[d], sizes[d] = value, size
    # Top-down: where each subtree starts in the concatenated token stream.
    root_size = sizes[0]
    offsets = [_segment_starts(root_size)]
    total = int(root_size.sum())
    tokens = np.full(total, -1, dtype=np.int8)
    for d in range(len(levels)):
        _, is_op, k, sym = levels[d]
        o, size = offsets[d], sizes[d]
        tokens[o[~is_op]] = sym[~is_op]
        if not is_op.any():
            break
        op_o, op_k = o[is_op], k[is_op]
        opens = np.repeat(op_o, op_k + 1) + (
            np.arange(int((op_k + 1).sum())) - np.repeat(_segment_starts(op_k + 1), op_k + 1)
        )
        tokens[opens] = _OPEN
        tokens[op_o + op_k + 1] = sym[is_op]
        tokens[op_o + size[is_op] - 2] = _END
        tokens[op_o + size[is_op] - 1] = _CLOSE
        # Child j starts after the parent's prefix and the earlier children, each
        # of which is followed by one `)`.
        child_size = sizes[d + 1]
        step = child_size + 1
        before = np.cumsum(step) - step
        first = np.repeat(before[_segment_starts(op_k)], op_k)
        child_o = np.repeat(op_o + op_k + 2, op_k) + before - first
        tokens[child_o + child_size] = _CLOSE
        offsets.append(child_o)
    bounds = np.concatenate((offsets[0], [total]))
    return values[0], tokens, bounds


def generate_batch(seed: int, batch: int, n_trees: int = TREES_PER_BATCH, min_length: int = MIN_LENGTH,
                   max_length: int = MAX_LENGTH):
    """The accepted (expression, value) pairs of batch `batch` of seed `seed`: trees of
    length min_length < L < max_length (LRA: 500 and 2000)."""
    rng = np.random.default_rng([seed, batch])
    levels, length = _draw_levels(rng, n_trees, max_length)
    keep = np.flatnonzero((length > min_length) & (length < max_length))
    if len(keep) == 0:
        return []
    values, tokens, bounds = _evaluate_and_serialise(levels, n_trees, keep)
    text = _TOKEN_TEXT[tokens]
    return [
        (" ".join(text[bounds[i] : bounds[i + 1]].tolist()), int(values[i]))
        for i in range(len(keep))
    ]


def _batch_job(args):
    return generate_batch(*args)


def generate_listops(
    out_dir, n_train: int, n_val: int, n_test: int, seed: int = 0,
    workers: int | None = None, progress: bool = True, min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH, folder=None,
) -> Path:
    """Write distinct trees to `out_dir/listops-1000/basic_{train,val,test}.tsv` (or to
    `folder` when given: a reduced set must not take an LRA folder name) and return
    that folder: first n_train to train, then val, then test. The files depend on the
    seed and the length bounds only, not on the number of workers."""
    if min(n_train, n_val, n_test) < 0:
        raise ValueError("split sizes must be non-negative")
    if not 0 <= min_length < max_length - 1:
        raise ValueError(f"need 0 <= min_length < max_length - 1, got {min_length} and {max_length}")
    folder = Path(folder) if folder is not None else Path(out_dir) / FOLDER
    _refuse_to_overwrite_release(folder)
    folder.mkdir(parents=True, exist_ok=True)
    workers = workers or min(2, os.cpu_count() or 1)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    wanted = sum(sizes.values())
    tmp = {s: folder / f".basic_{s}.tsv.tmp" for s in sizes}
    files = {s: open(tmp[s], "w", encoding="utf-8", newline="\n") for s in sizes}
    for f in files.values():
        f.write("Source\tTarget\n")
    seen: set[bytes] = set()
    order = [s for s in sizes for _ in range(sizes[s])]
    written, batch = 0, 0
    bar = tqdm(total=wanted, unit="tree", desc="ListOps", disable=not progress)
    pool = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None
    try:
        while written < wanted:
            jobs = [(seed, b, TREES_PER_BATCH, min_length, max_length)
                    for b in range(batch, batch + 2 * workers)]
            batch += len(jobs)
            results = pool.map(_batch_job, jobs) if pool else map(_batch_job, jobs)
            for trees in results:
                for expression, value in trees:
                    if written == wanted:
                        break
                    digest = hashlib.blake2b(expression.encode(), digest_size=16).digest()
                    if digest in seen:  # LRA draws a set: every tree once
                        continue
                    seen.add(digest)
                    files[order[written]].write(f"{expression}\t{value}\n")
                    written += 1
                    bar.update(1)
    finally:
        bar.close()
        if pool:
            pool.terminate()
        for f in files.values():
            f.close()
    for split in sizes:
        os.replace(tmp[split], folder / f"basic_{split}.tsv")
    lengths = {} if (min_length, max_length) == (MIN_LENGTH, MAX_LENGTH) else {
        "min_length": min_length, "max_length": max_length}
    (folder / MARKER).write_text(json.dumps(
        {"generator": "macformer.data.generators.listops", "seed": seed, **sizes, **lengths}) + "\n")
    return folder


def _refuse_to_overwrite_release(folder: Path):
    if folder.is_dir() and any(folder.glob("*.tsv")) and not (folder / MARKER).exists():
        raise FileExistsError(
            f"{folder} holds ListOps files that were not generated here (a release?); "
            "delete it or pass another --out"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="folder that will hold listops-1000/")
    parser.add_argument("--train", type=int, default=96000)
    parser.add_argument("--val", type=int, default=2000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-length", type=int, default=MIN_LENGTH,
                        help=f"keep trees longer than this (exclusive; LRA: {MIN_LENGTH})")
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH,
                        help=f"keep trees shorter than this (exclusive; LRA: {MAX_LENGTH})")
    parser.add_argument("--folder", default=None,
                        help="write the files here instead of <out>/listops-1000 (for reduced sets)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if (args.out is None) == (args.folder is None):
        parser.error("give exactly one of --out (the LRA layout) or --folder")
    folder = generate_listops(
        args.out, args.train, args.val, args.test, args.seed,
        workers=args.workers, progress=not args.no_progress, min_length=args.min_length,
        max_length=args.max_length, folder=args.folder,
    )
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
