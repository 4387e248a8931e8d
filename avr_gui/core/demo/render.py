"""Pictures of an alignment for people: the cost matrix with the warp path."""

from __future__ import annotations

import os

import numpy as np

from avr_gui.core.atomic import write_bytes
from avr_gui.core.errors import AvrError
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()


def cost_matrix_image(cost: np.ndarray, path: np.ndarray, scale: int = 12) -> np.ndarray:
    """Colour image of a cost matrix (rows = query frames, top to bottom) and its path.

    Parameters
    ----------
    cost : numpy.ndarray, shape (n, m)
    path : numpy.ndarray, shape (L, 2)
    scale : int
        Pixels per cell (upper bound; the picture is kept near 600 px or less).

    Returns
    -------
    numpy.ndarray, shape (n * s, m * s, 3), uint8
        BGR image; low cost is dark, the optimal path is drawn in white.
    """
    n, m = cost.shape
    s = max(1, min(scale, 600 // max(n, m, 1)))
    lo, hi = float(cost.min()), float(cost.max())
    norm = (cost - lo) / (hi - lo) if hi > lo else np.zeros_like(cost)
    img = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    img = cv2.resize(img, (m * s, n * s), interpolation=cv2.INTER_NEAREST)
    pts = (path[:, ::-1] * s + s // 2).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(img, [pts], False, (255, 255, 255), max(1, s // 2), cv2.LINE_AA)
    return img


def write_png(target: str | os.PathLike[str], image: np.ndarray) -> None:
    """Encode ``image`` (BGR) as PNG and write it atomically."""
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise AvrError(f"{target}: could not encode the image as PNG")
    write_bytes(target, buf.tobytes())
