"""Pathfinder scene geometry: an occupancy grid on which paddles are placed with a margin.

A contour is a chain of short straight paddles (Linsley et al. 2018, "Learning long-range
spatial dependencies with horizontal gated recurrent units"; drewlinsley/pathfinder):
each new paddle starts `margin` px past the end of the previous one, turns by an angle
weighted by cos(min(turn·continuity, π/2))², and may not come within `margin` px of any
other paddle. How contours make one scene is in draw.py.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .params import PathfinderParams

GRID = 2  # occupancy cells per pixel
N_ANGLES = 48  # directions a paddle may take
SEED_TRIES = 30  # random seed points tried for one distractor


ANGLES = np.arange(N_ANGLES) * (2 * math.pi / N_ANGLES)
UNIT = np.stack((np.cos(ANGLES), np.sin(ANGLES)), axis=1)  # (A, 2) as (x, y)


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
    for ux, uy in UNIT:
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


class Scene:
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
        end = start + self.p.paddle_length * UNIT[angle]
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

    def remove(self, ids: list[int]):
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
            starts = snake["head"] + self.margin * UNIT
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
        snake["head"] = start + self.p.paddle_length * UNIT[angle]
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
        turn = np.abs((ANGLES[None] - ANGLES[:, None] + math.pi) % (2 * math.pi) - math.pi)
        _CACHE[key] = np.cos(np.minimum(turn * continuity, math.pi / 2)) ** 2
    return _CACHE[key]
