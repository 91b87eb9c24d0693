"""Pathfinder generator: writes a set of images and their metadata.

Layout written (the LRA release's): `<folder>/imgs/<k>/sample_<j>.png` (1000 images
per folder k) and `<folder>/metadata/<k>.npy`, a text file with one line per image:
`imgs/<k> sample_<j>.png <j> <label> <continuity> <contour_length> <distractor_length>
<paddle_length> <thickness> <margin> <contrast>`, plus a GENERATED.json marker with
every option. `<folder>` is `<out>/pathfinder{size}/<difficulty folder>` for LRA's own
parameter sets, or any folder given with --folder (the only place a set with changed
options may go, so that it never passes for an LRA one).

The set is written into a hidden sibling folder and renamed into place at the end: a
run killed mid-way leaves the previous set intact, and the next run removes its
leftovers. Every image is drawn from its own generator seeded by (seed, image index),
so the files are the same whatever the number of workers.

    python -m macformer.data.generators.pathfinder --out data/lra_release --size 32 --difficulty hard --count 200000
    python -m macformer.data.generators.pathfinder --folder data/generated/pathfinder16-cpu --size 16 \\
        --contour-length 3 --distractors 0 --count 12000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from macformer.data.release import GENERATED_MARKER

from .draw import make_image
from .params import (
    DIFFICULTIES,
    FOLDERS,
    LRA_SIZES,
    PARAMS,
    PathfinderParams,
    describe,
    distractor_length,
    is_lra,
    resolve,
)

__all__ = ["generate_pathfinder", "balanced_labels", "make_image", "partial_folder", "main",
           "PARAMS", "DIFFICULTIES", "FOLDERS", "PathfinderParams", "MARKER"]

IMAGES_PER_FOLDER = 1000
MARKER = GENERATED_MARKER


def _chunk_job(job):
    params, contour_length, seed, folder, indices, labels = job
    lines = []
    for index, label in zip(indices, labels, strict=True):
        k, j = divmod(index, IMAGES_PER_FOLDER)
        pixels, margin = make_image(params, contour_length, seed, index, label)
        Image.fromarray(pixels, mode="L").save(Path(folder) / "imgs" / str(k) / f"sample_{j}.png", compress_level=1)
        lines.append((k, j, (
            f"imgs/{k} sample_{j}.png {j} {label} {params.continuity:g} {contour_length} "
            f"{distractor_length(contour_length)} {params.paddle_length:g} {params.thickness:g} "
            f"{margin:g} {params.paddle_contrast:g}"
        )))
    return lines


def balanced_labels(count: int, seed: int) -> np.ndarray:
    """Half the images positive (count // 2 of them), in a seeded order."""
    labels = np.zeros(count, dtype=np.int64)
    labels[: count // 2] = 1
    np.random.default_rng([seed, 2**31 - 1]).shuffle(labels)
    return labels


def partial_folder(folder) -> Path:
    """Where a set for `folder` is written before it is renamed into place."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.generating"


def _previous_folder(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.previous"


def _prepare(folder: Path) -> Path:
    """Check that `folder` may be replaced, clear what a killed run left, and return
    the empty temporary folder to write into."""
    previous = _previous_folder(folder)
    if not folder.exists() and (previous / MARKER).exists():
        previous.rename(folder)  # a run killed between the two renames of _swap
    if folder.exists() and not (folder / MARKER).exists():
        raise FileExistsError(
            f"{folder} was not generated here (a release?): it has no {MARKER}; delete it "
            "yourself if it is not needed, or write elsewhere (--out / --folder)")
    for leftover in (partial_folder(folder), previous):
        if leftover.exists():
            shutil.rmtree(leftover)
    tmp = partial_folder(folder)
    tmp.mkdir(parents=True)
    return tmp


def _swap(tmp: Path, folder: Path):
    previous = _previous_folder(folder)
    if folder.exists():
        folder.rename(previous)
    tmp.rename(folder)
    if previous.exists():
        shutil.rmtree(previous)


def _write(tmp: Path, params: PathfinderParams, length: int, count: int, seed: int,
           workers: int | None, progress: bool, chunk: int):
    n_folders = (count + IMAGES_PER_FOLDER - 1) // IMAGES_PER_FOLDER
    for k in range(n_folders):
        (tmp / "imgs" / str(k)).mkdir(parents=True)
    (tmp / "metadata").mkdir()
    labels = balanced_labels(count, seed)
    jobs = [
        (params, length, seed, str(tmp), list(range(a, min(a + chunk, count))), labels[a : a + chunk].tolist())
        for a in range(0, count, chunk)
    ]
    workers = workers or min(2, os.cpu_count() or 1)
    lines: dict[int, list] = {k: [] for k in range(n_folders)}
    bar = tqdm(total=count, unit="img", desc=f"Pathfinder-{params.size} contour {length}", disable=not progress)
    pool = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None
    try:
        results = pool.imap_unordered(_chunk_job, jobs) if pool else map(_chunk_job, jobs)
        for chunk_lines in results:
            for k, j, line in chunk_lines:
                lines[k].append((j, line))
            bar.update(len(chunk_lines))
    finally:
        bar.close()
        if pool:
            pool.terminate()
    for k, entries in lines.items():
        text = "".join(line + "\n" for _, line in sorted(entries))
        (tmp / "metadata" / f"{k}.npy").write_text(text)
    difficulty = next((name for name, n in DIFFICULTIES.items() if n == length), None)
    (tmp / MARKER).write_text(json.dumps(
        {"generator": "macformer.data.generators.pathfinder", "lra": is_lra(params, length), "difficulty": difficulty,
         "count": count, "seed": seed, **describe(params, length)}) + "\n")


def generate_pathfinder(
    out_dir=None, size: int = 32, difficulty: str | None = None, count: int = 200000, seed: int = 0,
    workers: int | None = None, progress: bool = True, chunk: int = 100, *, folder=None,
    contour_length: int | None = None, distractors: int | None = None, thickness: float | None = None,
    marker_radius: float | None = None, seed_distance: float | None = None,
) -> Path:
    """Write `count` images and their metadata and return the folder holding them.

    The folder is `folder` when given, else `out_dir/pathfinder{size}/<difficulty
    folder>`, which only LRA's own sets (sizes 32/64/128, contour length 6/9/14, no
    changed geometry) may take. The contour length is `contour_length` or that of
    `difficulty` (hard when neither is given); `distractors` is K, the distractor
    paddles (K // distractor length contours); thickness, marker_radius and
    seed_distance (px) replace the size's values. A set generated before is replaced
    only once the new one is complete; a folder that was not generated here is refused.
    """
    if (out_dir is None) == (folder is None):
        raise ValueError("pass exactly one of out_dir (LRA layout) and folder")
    if count < 1:
        raise ValueError("count must be positive")
    params, length = resolve(size, difficulty, contour_length, distractors=distractors,
                             thickness=thickness, marker_radius=marker_radius, seed_distance=seed_distance)
    if folder is None:
        if not is_lra(params, length):
            raise ValueError(
                f"only LRA's sets (sizes {list(LRA_SIZES)}, contour length {sorted(FOLDERS)}, "
                "unchanged geometry) go under an LRA folder name; write this one with folder= (--folder)")
        folder = Path(out_dir) / f"pathfinder{size}" / FOLDERS[length]
    folder = Path(folder)
    tmp = _prepare(folder)
    try:
        _write(tmp, params, length, count, seed, workers, progress, chunk)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a kill -9 leaves it to the next run
        raise
    _swap(tmp, folder)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="folder that will hold pathfinder{size}/<difficulty folder> (LRA's sets only)")
    where.add_argument("--folder", help="the exact folder to write (any options)")
    parser.add_argument("--size", type=int, choices=sorted(PARAMS), default=32)
    parser.add_argument("--difficulty", choices=list(DIFFICULTIES), default=None,
                        help="contour length 6/9/14 (default: hard, unless --contour-length)")
    parser.add_argument("--contour-length", type=int, default=None, help="target contour length in paddles")
    parser.add_argument("--distractors", type=int, default=None,
                        help="K, distractor paddles in all (the size's value by default; 0: none)")
    parser.add_argument("--thickness", type=float, default=None, help="paddle thickness in px")
    parser.add_argument("--marker-radius", type=float, default=None, help="marker disc radius in px")
    parser.add_argument("--seed-distance", type=float, default=None,
                        help="px between the first points of the two target contours")
    parser.add_argument("--count", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        folder = generate_pathfinder(
            args.out, args.size, args.difficulty, args.count, args.seed, workers=args.workers,
            progress=not args.no_progress, folder=args.folder, contour_length=args.contour_length,
            distractors=args.distractors, thickness=args.thickness, marker_radius=args.marker_radius,
            seed_distance=args.seed_distance,
        )
    except (ValueError, FileExistsError) as error:
        parser.error(str(error))
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
