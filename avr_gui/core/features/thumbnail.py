"""A weight-free frame descriptor: a tiny grey thumbnail, normalised per frame."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

NAME = "thumb16"
SIDE = 16


def thumbnail_features(images: Iterable[np.ndarray], side: int = SIDE) -> np.ndarray:
    """Encode BGR frames as ``side x side`` grey thumbnails with zero mean, unit norm.

    Parameters
    ----------
    images : iterable of numpy.ndarray, each shape (H, W, 3) uint8
    side : int
        Thumbnail side in pixels.

    Returns
    -------
    numpy.ndarray, shape (T, side * side), float32
    """
    rows = []
    for img in images:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
        small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
        small -= small.mean()
        norm = float(np.linalg.norm(small))
        if norm > 1e-6:
            small /= norm
        rows.append(small.ravel())
    if not rows:
        return np.zeros((0, side * side), np.float32)
    return np.stack(rows).astype(np.float32, copy=False)
