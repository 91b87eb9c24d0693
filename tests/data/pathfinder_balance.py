"""The check that a generated Pathfinder set is a connectivity task: per class, the pixel
statistics agree (a leak would make the label readable from intensity alone)."""

import numpy as np
from PIL import Image

from macformer.data.readers.pathfinder_images import read_entries


def images(folder, entries) -> np.ndarray:
    return np.stack([np.asarray(Image.open(folder / path), dtype=np.float64) for path, _ in entries])


def assert_classes_differ_only_in_connectivity(folder) -> np.ndarray:
    """Mean intensity, lit and bright pixel counts per class agree within 4 standard errors of
    their difference; returns the labels."""
    entries = read_entries(folder)
    pixels = images(folder, entries)
    labels = np.array([label for _, label in entries])
    for name, statistic in (("mean intensity", pixels.mean((1, 2))),
                            ("lit pixels", (pixels > 0).sum((1, 2))),
                            ("bright pixels", (pixels > 200).sum((1, 2)))):
        pos, neg = statistic[labels == 1], statistic[labels == 0]
        se = np.sqrt(pos.var(ddof=1) / len(pos) + neg.var(ddof=1) / len(neg))
        assert abs(pos.mean() - neg.mean()) < 4 * se, (name, pos.mean(), neg.mean(), se)
    return labels
