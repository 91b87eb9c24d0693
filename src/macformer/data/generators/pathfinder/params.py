"""Pathfinder parameter sets: LRA's three image sizes, a small one for CPU runs, and
the options (contour length, distractors, geometry) a generated set may change.

The 32/64/128 sets are LRA's (drewlinsley/pathfinder as used by Tay et al. 2021, "Long
Range Arena"); difficulty is the target contour length in paddles: easy 6,
intermediate 9, hard 14. Distractor contours are a third as long, and there are K //
distractor length of them. Size 16 is not LRA's, and only for reduced sets under a
variant name: the 32 set's paddle length, margin and marker radius on a quarter of
the area, paddles 1 px thick (a full pixel, not half of one), seeds 6 px apart (so
the four contour ends leave room for the discs) and K = 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

DIFFICULTIES = {"easy": 6, "intermediate": 9, "hard": 14}  # contour length in paddles
FOLDERS = {6: "curv_baseline", 9: "curv_contour_length_9", 14: "curv_contour_length_14"}


@dataclass(frozen=True)
class PathfinderParams:
    """The geometry of one image size (all lengths in pixels)."""

    size: int
    paddle_length: float
    thickness: float
    margins: tuple[float, ...]  # one is drawn per image
    marker_radius: float
    seed_distance: float  # between the first points of the two target contours
    continuity: float
    total_distractor_paddles: int  # K: distractor count is K // distractor length
    paddle_contrast: float  # paddle intensity relative to the markers
    padding: float = 1.0


PARAMS = {
    32: PathfinderParams(32, 2, 0.5, (1,), 1.5, 7, 1.0, 20, 0.75),
    64: PathfinderParams(64, 5, 1.0, (1,), 2.5, 12, 1.8, 22, 0.8),
    128: PathfinderParams(128, 5, 1.5, (2, 3), 3.0, 20, 1.8, 35, 0.9),
}
LRA_SIZES = tuple(PARAMS)
PARAMS[16] = PathfinderParams(16, 2, 1.0, (1,), 1.5, 6, 1.0, 4, 0.75)

# Options that change a parameter set, by the name of its field.
GEOMETRY_OPTIONS = {"distractors": "total_distractor_paddles", "thickness": "thickness",
                    "marker_radius": "marker_radius", "seed_distance": "seed_distance"}


def distractor_length(contour_length: int) -> int:
    return max(contour_length // 3, 1)


def resolve(size: int, difficulty: str | None = None, contour_length: int | None = None,
            **geometry) -> tuple[PathfinderParams, int]:
    """(parameter set, contour length) for `size`, the contour length given directly or
    by difficulty (hard when neither is), and any GEOMETRY_OPTIONS not None."""
    if size not in PARAMS:
        raise ValueError(f"size must be one of {sorted(PARAMS)}, got {size}")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, got {difficulty!r}")
    if contour_length is None:
        contour_length = DIFFICULTIES[difficulty or "hard"]
    elif difficulty is not None and DIFFICULTIES[difficulty] != contour_length:
        raise ValueError(f"difficulty {difficulty!r} means contour length {DIFFICULTIES[difficulty]}, "
                         f"not {contour_length}; pass one of the two")
    if contour_length < 1:
        raise ValueError(f"contour_length must be at least 1 paddle, got {contour_length}")
    unknown = set(geometry) - set(GEOMETRY_OPTIONS)
    if unknown:
        raise TypeError(f"unknown Pathfinder options {sorted(unknown)}; known: {sorted(GEOMETRY_OPTIONS)}")
    changes = {GEOMETRY_OPTIONS[k]: v for k, v in geometry.items() if v is not None}
    for field, value in changes.items():
        if value < 0 or (field != "total_distractor_paddles" and value == 0):
            raise ValueError(f"{field} must be {'non-negative' if field == 'total_distractor_paddles' else 'positive'}, got {value}")
    return replace(PARAMS[size], **changes), contour_length


def is_lra(params: PathfinderParams, contour_length: int) -> bool:
    """Whether this is one of LRA's sets, which alone may take an LRA folder name."""
    return params.size in LRA_SIZES and params == PARAMS[params.size] and contour_length in FOLDERS


def describe(params: PathfinderParams, contour_length: int) -> dict:
    """Every option of a set under its option name (as resolve takes them), then what
    follows from them, for its GENERATED.json marker."""
    length = distractor_length(contour_length)
    return {"size": params.size, "contour_length": contour_length,
            **{option: getattr(params, field) for option, field in GEOMETRY_OPTIONS.items()},
            "distractor_length": length, "distractor_contours": params.total_distractor_paddles // length,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(params).items()}}
