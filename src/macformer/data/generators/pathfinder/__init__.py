"""Pathfinder / Path-X generator: params (LRA's parameter sets), scene (occupancy and
curve geometry), draw (one image), generate (a whole set on disk, and the command line)."""

from .generate import generate_pathfinder, main, partial_folder

__all__ = ["generate_pathfinder", "main", "partial_folder"]
