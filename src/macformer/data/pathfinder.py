"""Pathfinder generator: two long contours, distractors and two marker discs.

Label 1: both discs sit on the ends of the same contour; label 0: one disc on each.
The scene (both target contours, the distractors) is drawn before the label is
looked at, and each disc may only touch the end of its own contour, so the classes
differ in connectivity alone, never in how many pixels are lit or how bright the
image is.

Layout written (the LRA release's): `<out>/pathfinder{size}/<difficulty folder>/`
with `imgs/<k>/sample_<j>.png` (1000 images per folder k) and `metadata/<k>.npy`,
a text file with one line per image:
`imgs/<k> sample_<j>.png <j> <label> <continuity> <contour_length> <distractor_length>
<paddle_length> <thickness> <margin> <contrast>`.

Every image is drawn from its own generator seeded by (seed, image index), so the
files are the same whatever the number of workers.

    python -m macformer.data.pathfinder --out data/lra_release --size 32 --difficulty hard --count 200000 --seed 0 --workers 2
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

DIFFICULTIES = {"easy": 6, "intermediate": 9, "hard": 14}  # contour length in paddles
FOLDERS = {6: "curv_baseline", 9: "curv_contour_length_9", 14: "curv_contour_length_14"}
IMAGES_PER_FOLDER = 1000
MARKER = "GENERATED.json"  # tells a generated set from a release; readers ignore it

GRID = 2  # occupancy cells per pixel
RENDER = 4  # supersampling of the drawing, for antialiasing
N_ANGLES = 48  # directions a paddle may take
SNAKE_TRIES = 20  # restarts of both target contours before a new scene
SEED_TRIES = 30  # random seed points tried for one distractor
BACKTRACKS = 20  # paddles two target contours may take back before they restart


@dataclass(frozen=True)
class PathfinderParams:
    """One of LRA's parameter sets (drewlinsley/pathfinder, as used by LRA)."""

    size: int
    paddle_length: float
    thickness: float
    margins: tuple[float, ...]  # one is drawn per image
    marker_radius: float
    seed_distance: float
    continuity: float
    total_distractor_paddles: int  # K: distractor count is K // distractor length
    paddle_contrast: float  # paddle intensity relative to the markers
    padding: float = 1.0


PARAMS = {
    32: PathfinderParams(32, 2, 0.5, (1,), 1.5, 7, 1.0, 20, 0.75),
    64: PathfinderParams(64, 5, 1.0, (1,), 2.5, 12, 1.8, 22, 0.8),
    128: PathfinderParams(128, 5, 1.5, (2, 3), 3.0, 20, 1.8, 35, 0.9),
}

_ANGLES = np.arange(N_ANGLES) * (2 * math.pi / N_ANGLES)
_UNIT = np.stack((np.cos(_ANGLES), np.sin(_ANGLES)), axis=1)  # (A, 2) as (x, y)


def _segment_cells(length: float, radius: float) -> np.ndarray:
    """Grid cells within `radius` px of a paddle of `length` px that starts at the
    centre of cell (0, 0), for every direction: (A, C, 2) as (x, y), where C is the
    largest count and shorter stamps repeat their first cell (harmless in a check)."""
    reach = int(math.ceil((length + radius) * GRID)) + 1
    grid = np.arange(-reach, reach + 1)
    cx, cy = np.meshgrid(grid, grid, indexing="xy")
    cells = np.stack((cx.ravel(), cy.ravel()), axis=1)  # (N, 2)
    points = cells / GRID  # cell centres in px relative to the start point
    stamps = []
    for ux, uy in _UNIT:
        along = np.clip(points[:, 0] * ux + points[:, 1] * uy, 0, length)
        dx, dy = points[:, 0] - along * ux, points[:, 1] - along * uy
        stamps.append(cells[dx * dx + dy * dy <= radius * radius])
    width = max(len(s) for s in stamps)
    return np.stack([np.concatenate((s, np.repeat(s[:1], width - len(s), 0))) for s in stamps])


def _disc_cells(radius: float) -> np.ndarray:
    reach = int(math.ceil(radius * GRID))
    grid = np.arange(-reach, reach + 1)
    cx, cy = np.meshgrid(grid, grid, indexing="xy")
    cells = np.stack((cx.ravel(), cy.ravel()), axis=1)
    return cells[(cells**2).sum(1) <= (radius * GRID) ** 2]


class _Scene:
    """Occupancy grid and paddles of one image (all lengths in pixels).

    The grid has GRID cells per pixel, holds the id of the paddle covering each
    cell (0 free, -1 obstacle: the border, reserved marker discs) and is kept flat
    with a wide obstacle frame, so a candidate paddle is checked with one gather.
    """

    def __init__(self, params: PathfinderParams, margin: float, rng: np.random.Generator):
        self.p, self.margin, self.rng = params, margin, rng
        body = max(params.thickness / 2, 0.5 / GRID)
        self.body = _flat_stamps(params, body, 0.0)
        self.check = _flat_stamps(params, body + margin, margin)
        self.turn_weight = _turn_weights(params.continuity)
        n, frame = params.size * GRID, self.check.frame
        self.width = n + 2 * frame
        occ = np.full((self.width, self.width), -1, dtype=np.int32)
        border = int(round(params.padding * GRID))
        occ[frame + border : frame + n - border, frame + border : frame + n - border] = 0
        self.occ = occ.ravel()
        self.frame = frame
        self.row_step = np.array([1, self.width])  # (x, y) -> flat index
        # Every paddle ever placed, x0, y0, x1, y1; id = index + 1. Paddles of a
        # distractor that did not fit stay listed but are in no drawn contour.
        self.paddles: list[tuple[float, float, float, float]] = []
        self.distractors: list[list[int]] = []  # paddle ids of each placed distractor

    def _flat(self, points: np.ndarray) -> np.ndarray:
        # Points lie inside the frame, so truncation is floor.
        return (points * GRID + self.frame).astype(np.int64) @ self.row_step

    def _free(self, starts: np.ndarray, ignore: int, zone: int) -> np.ndarray:
        """Which of the N_ANGLES candidate paddles (one start (A, 2) px per angle)
        keep a margin from everything but paddle `ignore` and the cells of `zone`."""
        owner = self.occ[self._flat(starts)[:, None] + self.check.flat(self.width)]
        return ~((owner != 0) & (owner != ignore) & (owner != zone)).any(1)

    def _place(self, start: np.ndarray, angle: int) -> int:
        end = start + self.p.paddle_length * _UNIT[angle]
        self.paddles.append((start[0], start[1], end[0], end[1]))
        pid = len(self.paddles)
        cells = self._flat(start) + self.body.flat(self.width)[angle]
        # The check kept the body off obstacles, so every body cell can take the id.
        self.occ[cells] = pid
        return pid

    def mark_zone(self, centre: np.ndarray, radius: float, zone: int):
        """Keep free cells within `radius` px of `centre` for the contour owning `zone`."""
        cells = self._disc(centre, radius)
        self.occ[cells[self.occ[cells] == 0]] = zone

    def _remove(self, ids: list[int]):
        if ids:
            self.occ[np.isin(self.occ, ids)] = 0

    def undo(self, snake: dict):
        """Take back the last paddle of `snake`."""
        pid = snake["ids"].pop()
        self.occ[self.occ == pid] = 0
        snake["head"], snake["angle"] = snake["history"].pop()

    def grow(self, snake: dict) -> bool:
        """Add one paddle to `snake` (its first one at its seed point); False if
        no direction is free."""
        if not snake["ids"]:
            starts = np.broadcast_to(snake["seed"], (N_ANGLES, 2))
            weight = self._free(starts, 0, snake["zone"]).astype(float)
        else:
            starts = snake["head"] + self.margin * _UNIT
            # Smooth contours: turns are weighted by cos(min(turn*continuity, pi/2))^2.
            weight = self.turn_weight[snake["angle"]] * self._free(starts, snake["ids"][-1], snake["zone"])
        cumulative = np.cumsum(weight)
        if cumulative[-1] <= 1e-12:
            return False
        angle = min(int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], "right")), N_ANGLES - 1)
        start = starts[angle].copy()
        snake.setdefault("history", []).append((snake.get("head"), snake.get("angle")))
        snake["ids"].append(self._place(start, angle))
        snake["angle"] = angle
        snake["head"] = start + self.p.paddle_length * _UNIT[angle]
        if len(snake["ids"]) == 1:
            snake["tail"] = start
        return True

    def random_free_point(self) -> np.ndarray | None:
        for _ in range(SEED_TRIES):
            point = self.rng.uniform(self.p.padding, self.p.size - self.p.padding, 2)
            if self.occ[self._flat(point)] == 0:
                return point
        return None

    def _disc(self, centre: np.ndarray, radius: float) -> np.ndarray:
        return self._flat(centre) + _disc_offsets(radius, self.width)

    def disc_is_clear(self, centre: np.ndarray, own: list[int]) -> bool:
        """A marker disc at `centre` may cover only the paddles `own` (the end of
        its own contour)."""
        owner = self.occ[self._disc(centre, self.p.marker_radius + 0.5)]
        return bool(np.isin(owner[owner > 0], own).all())

    def reserve_disc(self, centre: np.ndarray):
        cells = self._disc(centre, self.p.marker_radius)
        self.occ[cells[self.occ[cells] == 0]] = -1


class _FlatStamps:
    """Cells of a paddle of every direction, as flat offsets for a given row width."""

    def __init__(self, cells: np.ndarray, frame: int):
        self.cells = cells  # (A, C, 2) as (x, y); short stamps repeat their first cell
        self.frame = frame
        self._by_width: dict[int, np.ndarray] = {}

    def flat(self, width: int) -> np.ndarray:
        """(A, C) offsets into a grid stored row by row with rows of `width` cells."""
        if width not in self._by_width:
            self._by_width[width] = self.cells[..., 1] * width + self.cells[..., 0]
        return self._by_width[width]


_CACHE: dict = {}


def _flat_stamps(params: PathfinderParams, radius: float, margin: float) -> _FlatStamps:
    key = ("stamps", params.paddle_length, radius, margin)
    if key not in _CACHE:
        cells = _segment_cells(params.paddle_length, radius)
        # The frame must hold any stamp whose start lies up to `margin` (plus the
        # largest marker disc) outside the drawable area.
        reach = int(np.abs(cells).max()) + int(math.ceil((margin + params.marker_radius + 1) * GRID)) + 2
        _CACHE[key] = _FlatStamps(cells, reach)
    return _CACHE[key]


def _disc_offsets(radius: float, width: int) -> np.ndarray:
    key = ("disc", radius, width)
    if key not in _CACHE:
        cells = _disc_cells(radius)
        _CACHE[key] = cells[:, 1] * width + cells[:, 0]
    return _CACHE[key]


def _turn_weights(continuity: float) -> np.ndarray:
    """(A, A): weight of turning from direction a to direction b."""
    key = ("turn", continuity)
    if key not in _CACHE:
        turn = np.abs((_ANGLES[None] - _ANGLES[:, None] + math.pi) % (2 * math.pi) - math.pi)
        _CACHE[key] = np.cos(np.minimum(turn * continuity, math.pi / 2)) ** 2
    return _CACHE[key]


def _target_contours(scene: _Scene, contour_length: int):
    """Two contours of `contour_length` paddles, seeded `seed_distance` apart and
    grown alternately; None if they do not fit."""
    p = scene.p
    first = scene.random_free_point()
    if first is None:
        return None
    angle = scene.rng.uniform(0, 2 * math.pi)
    second = first + p.seed_distance * np.array([math.cos(angle), math.sin(angle)])
    if not (p.padding <= second.min() and second.max() < p.size - p.padding):
        return None
    # The disc on each tail must touch only its own contour: keep the other one out.
    snakes = [{"seed": first, "ids": [], "zone": -2}, {"seed": second, "ids": [], "zone": -3}]
    for snake in snakes:
        scene.mark_zone(snake["seed"], p.marker_radius + 1, snake["zone"])
    backtracks = BACKTRACKS
    while min(len(s["ids"]) for s in snakes) < contour_length:
        # Alternate: the shorter contour grows next (the first one on a tie).
        snake = min(snakes, key=lambda s: len(s["ids"]))
        if scene.grow(snake):
            continue
        if backtracks == 0 or len(snake["ids"]) < 2:
            scene._remove(snakes[0]["ids"] + snakes[1]["ids"] + [-2, -3])
            return None
        # A dead end: take back the last paddle and try another direction.
        backtracks -= 1
        scene.undo(snake)
    return snakes


def _ends_apart(snakes, min_distance: float) -> bool:
    ends = [s[k] for s in snakes for k in ("tail", "head")]
    return all(
        np.hypot(*(ends[i] - ends[j])) >= min_distance
        for i in range(len(ends)) for j in range(i + 1, len(ends))
    )


def draw_scene(params: PathfinderParams, contour_length: int, rng: np.random.Generator):
    """Build one scene: (paddles, target contours, margin). Label-independent."""
    distractor_length = max(contour_length // 3, 1)
    n_distractors = params.total_distractor_paddles // distractor_length
    while True:
        margin = float(params.margins[rng.integers(len(params.margins))])
        scene = _Scene(params, margin, rng)
        snakes = None
        for _ in range(SNAKE_TRIES):
            snakes = _target_contours(scene, contour_length)
            if snakes is not None:
                break
        if snakes is None:
            continue
        # Discs must not touch each other nor anything but their own contour end.
        if not _ends_apart(snakes, 2 * params.marker_radius + 1):
            continue
        ends = [(s["tail"], s["ids"][:2]) for s in snakes] + [(s["head"], s["ids"][-2:]) for s in snakes]
        if not all(scene.disc_is_clear(c, own) for c, own in ends):
            continue
        for centre, _ in ends:
            scene.reserve_disc(centre)
        for _ in range(n_distractors):
            seed = scene.random_free_point()
            if seed is None:
                continue
            distractor = {"seed": seed, "ids": [], "zone": 0}
            for _ in range(distractor_length):
                if not scene.grow(distractor):
                    scene._remove(distractor["ids"])  # one that does not fit is skipped
                    break
            else:
                scene.distractors.append(distractor["ids"])
        return scene, snakes, margin


def render(scene: _Scene, snakes, label: int, owner: int) -> np.ndarray:
    """The image as uint8 (size, size): paddles, then the two discs on the ends
    chosen by `label`; stretched so the darkest pixel is 0 and the brightest 255."""
    p = scene.p
    canvas = Image.new("L", (p.size * RENDER, p.size * RENDER), 0)
    draw = ImageDraw.Draw(canvas)
    width = max(1, int(round(p.thickness * RENDER)))
    fill = int(round(255 * p.paddle_contrast))
    drawn = set(snakes[0]["ids"] + snakes[1]["ids"])
    for ids in scene.distractors:
        drawn.update(ids)
    for pid in sorted(drawn):
        x0, y0, x1, y1 = scene.paddles[pid - 1]
        draw.line([(x0 * RENDER, y0 * RENDER), (x1 * RENDER, y1 * RENDER)], fill=fill, width=width)
    other = snakes[1 - owner]
    centres = [snakes[owner]["tail"], snakes[owner]["head"] if label == 1 else other["head"]]
    r = p.marker_radius * RENDER
    for cx, cy in centres:
        draw.ellipse([cx * RENDER - r, cy * RENDER - r, cx * RENDER + r, cy * RENDER + r], fill=255)
    image = np.asarray(canvas.resize((p.size, p.size), Image.BOX), dtype=np.float32)
    low, high = image.min(), image.max()
    return np.round((image - low) * (255.0 / max(high - low, 1e-6))).astype(np.uint8)


def make_image(params: PathfinderParams, contour_length: int, seed: int, index: int, label: int):
    """Image `index` of a set: (uint8 array, margin). Depends on (seed, index) only."""
    rng = np.random.default_rng([seed, index])
    scene, snakes, margin = draw_scene(params, contour_length, rng)
    owner = int(rng.integers(2))  # which contour carries the tail disc
    return render(scene, snakes, label, owner), margin


def _chunk_job(job):
    params, contour_length, seed, folder, indices, labels = job
    lines = []
    distractor_length = max(contour_length // 3, 1)
    for index, label in zip(indices, labels, strict=True):
        k, j = divmod(index, IMAGES_PER_FOLDER)
        pixels, margin = make_image(params, contour_length, seed, index, label)
        Image.fromarray(pixels, mode="L").save(Path(folder) / "imgs" / str(k) / f"sample_{j}.png", compress_level=1)
        lines.append((k, j, (
            f"imgs/{k} sample_{j}.png {j} {label} {params.continuity:g} {contour_length} "
            f"{distractor_length} {params.paddle_length:g} {params.thickness:g} {margin:g} "
            f"{params.paddle_contrast:g}"
        )))
    return lines


def balanced_labels(count: int, seed: int) -> np.ndarray:
    """Half the images positive (count // 2 of them), in a seeded order."""
    labels = np.zeros(count, dtype=np.int64)
    labels[: count // 2] = 1
    np.random.default_rng([seed, 2**31 - 1]).shuffle(labels)
    return labels


def generate_pathfinder(
    out_dir, size: int = 32, difficulty: str = "hard", count: int = 200000, seed: int = 0,
    workers: int | None = None, progress: bool = True, chunk: int = 100,
) -> Path:
    """Write `count` images and their metadata under
    `out_dir/pathfinder{size}/<difficulty folder>/` and return that folder. A set
    generated before is replaced; a folder that was not generated here is refused."""
    if size not in PARAMS:
        raise ValueError(f"size must be one of {sorted(PARAMS)}, got {size}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, got {difficulty!r}")
    if count < 1:
        raise ValueError("count must be positive")
    params, contour_length = PARAMS[size], DIFFICULTIES[difficulty]
    folder = Path(out_dir) / f"pathfinder{size}" / FOLDERS[contour_length]
    if folder.exists():
        if not (folder / MARKER).exists():
            raise FileExistsError(
                f"{folder} was not generated here (a release?); delete it or pass another --out"
            )
        shutil.rmtree(folder)
    n_folders = (count + IMAGES_PER_FOLDER - 1) // IMAGES_PER_FOLDER
    for k in range(n_folders):
        (folder / "imgs" / str(k)).mkdir(parents=True, exist_ok=True)
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    labels = balanced_labels(count, seed)
    jobs = [
        (params, contour_length, seed, str(folder), list(range(a, min(a + chunk, count))),
         labels[a : a + chunk].tolist())
        for a in range(0, count, chunk)
    ]
    workers = workers or min(2, os.cpu_count() or 1)
    lines: dict[int, list] = {k: [] for k in range(n_folders)}
    bar = tqdm(total=count, unit="img", desc=f"Pathfinder-{size} {difficulty}", disable=not progress)
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
    # Metadata last: a set without it is incomplete and readers will not use it.
    for k, entries in lines.items():
        text = "".join(line + "\n" for _, line in sorted(entries))
        (folder / "metadata" / f"{k}.npy").write_text(text)
    (folder / MARKER).write_text(json.dumps(
        {"generator": "macformer.data.pathfinder", "size": size, "difficulty": difficulty,
         "count": count, "seed": seed}) + "\n")
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder that will hold pathfinder{size}/")
    parser.add_argument("--size", type=int, choices=sorted(PARAMS), default=32)
    parser.add_argument("--difficulty", choices=list(DIFFICULTIES), default="hard")
    parser.add_argument("--count", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    folder = generate_pathfinder(
        args.out, args.size, args.difficulty, args.count, args.seed,
        workers=args.workers, progress=not args.no_progress,
    )
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
