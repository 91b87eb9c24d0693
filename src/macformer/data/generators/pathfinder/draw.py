"""One Pathfinder image: two target contours, distractors, two marker discs.

Label 1: both discs sit on the ends of the same contour; label 0: one disc on each.
The scene (both target contours, the distractors) is drawn before the label is
looked at, and each disc may only touch the end of its own contour, so the classes
differ in connectivity alone, never in how many pixels are lit or how bright the
image is. An image depends on (seed, image index) only.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .params import PathfinderParams, distractor_length
from .scene import Scene

RENDER = 4  # supersampling of the drawing, for antialiasing
SNAKE_TRIES = 20  # restarts of both target contours before a new scene
BACKTRACKS = 20  # paddles two target contours may take back before they restart
SCENE_TRIES = 200  # new scenes before a geometry is declared too tight (LRA sets need < 20)


def _target_contours(scene: Scene, contour_length: int):
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
            scene.remove(snakes[0]["ids"] + snakes[1]["ids"] + [-2, -3])
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
    length = distractor_length(contour_length)
    n_distractors = params.total_distractor_paddles // length
    for _ in range(SCENE_TRIES):
        margin = float(params.margins[rng.integers(len(params.margins))])
        scene = Scene(params, margin, rng)
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
            for _ in range(length):
                if not scene.grow(distractor):
                    scene.remove(distractor["ids"])  # one that does not fit is skipped
                    break
            else:
                scene.distractors.append(distractor["ids"])
        return scene, snakes, margin
    raise ValueError(
        f"two contours of {contour_length} paddles with discs on their ends did not fit in "
        f"{SCENE_TRIES} tries on a {params.size}x{params.size} image ({params}); "
        f"use a shorter contour_length or a larger size")


def render(scene: Scene, snakes, label: int, owner: int) -> np.ndarray:
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
