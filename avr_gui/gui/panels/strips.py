"""Thumbnail strips of the matches: frames along each match's aligned part.

Made on a worker thread (:func:`make_strips`) and attached to the matches table when
they arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui

from avr_gui.core.video import thumbnail
from avr_gui.gui.frame_source import to_qimage

#: Frames in a candidate's thumbnail strip.
STRIP_FRAMES = 5
STRIP_HEIGHT = 40
#: Largest preview drawn in the table (the column width less a small margin).
STRIP_BOX = (STRIP_FRAMES * 56 - 6, STRIP_HEIGHT)


def strip_times(match: Any, count: int = STRIP_FRAMES) -> np.ndarray:
    """Match times (s) for a thumbnail strip: evenly along the aligned part of the path.

    Parameters
    ----------
    match : Match
        Its ``alignment.path`` and ``features.timestamps`` are used.
    count : int

    Returns
    -------
    numpy.ndarray, shape (count,), float64
    """
    path = match.alignment.path
    ts = np.asarray(match.features.timestamps, dtype=np.float64)
    cols = path[np.linspace(0, len(path) - 1, count).round().astype(int), 1]
    return ts[cols]


def thumbnail_strip(path: str, times: np.ndarray, height: int = STRIP_HEIGHT) -> np.ndarray:
    """Frames of ``path`` at ``times`` side by side, each ``height`` pixels tall.

    Parameters
    ----------
    path : str
    times : numpy.ndarray, shape (k,)
        Seconds.
    height : int

    Returns
    -------
    numpy.ndarray, shape (height, W, 3), uint8
        BGR, a 1-pixel dark gap between frames.
    """
    import cv2

    tiles = []
    for t in times:
        img = thumbnail(path, float(t), max_side=4 * height)
        h, w = img.shape[:2]
        tile = cv2.resize(
            img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA
        )
        tiles.append(tile)
        tiles.append(np.full((height, 1, 3), 20, np.uint8))
    return np.ascontiguousarray(np.concatenate(tiles[:-1], axis=1))


def make_strips(
    rows: list[tuple[str, np.ndarray]], progress: Any, cancel: Any
) -> dict[str, QtGui.QImage]:
    """Worker job: thumbnail strips keyed by path (files that fail get none).

    Parameters
    ----------
    rows : list of (str, numpy.ndarray)
        Path and the times (s) of its strip's frames.
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    dict of str to QImage
    """
    from avr_gui.core.errors import AvrError
    from avr_gui.core.jobs import check

    out: dict[str, QtGui.QImage] = {}
    for k, (path, times) in enumerate(rows):
        check(cancel)
        progress(k, len(rows), Path(path).name)
        try:
            # Scaled here, off the GUI thread (QImage is safe to use in any thread).
            out[path] = fit_strip(to_qimage(thumbnail_strip(path, times)))
        except AvrError:
            continue
    return out


def fit_strip(strip: QtGui.QImage, box: tuple[int, int] = STRIP_BOX) -> QtGui.QImage:
    """``strip`` shrunk (never enlarged) to fit ``box`` (width, height), keeping its aspect.

    Parameters
    ----------
    strip : QImage
    box : (int, int)
        Width, height.

    Returns
    -------
    QImage
    """
    if strip.isNull() or (strip.width() <= box[0] and strip.height() <= box[1]):
        return strip
    return strip.scaled(
        box[0],
        box[1],
        QtCore.Qt.AspectRatioMode.KeepAspectRatio,
        QtCore.Qt.TransformationMode.SmoothTransformation,
    )
