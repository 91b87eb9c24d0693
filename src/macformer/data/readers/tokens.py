"""Token ids shared by the byte and pixel tasks (value + 1; 0 is padding)."""

from __future__ import annotations

import numpy as np


def byte_ids(data: bytes, max_tokens: int) -> np.ndarray:
    """UTF-8 bytes (already encoded) as ids, cut at max_tokens."""
    return np.frombuffer(data[:max_tokens], dtype=np.uint8).astype(np.uint16) + 1


def pixel_ids(pixels: np.ndarray) -> np.ndarray:
    """A grayscale uint8 image, row by row, as ids."""
    return pixels.reshape(-1).astype(np.uint16) + 1
