"""Skeletons over video frames: which landmarks go with a shown frame, and how to paint them.

A :class:`~avr_gui.core.features.pose.PoseTrack` holds the landmarks of the *sampled*
frames (10 a second in a library) in pixels of the source as displayed; the player shows
every frame of the file, scaled to whatever rectangle fits. :func:`landmarks_for_frame`
picks the landmarks for the time of the shown frame, and :func:`paint_skeleton` maps
source pixels onto the rectangle the frame is drawn in (with QPainter, antialiased, at
screen resolution), so the overlay stays on the body at any size and in every view mode.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui

from avr_gui.core.features.pose import draw as _draw
from avr_gui.core.features.pose.draw import landmarks_at
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS, skeleton_edges


def _qcolour(bgr: tuple[int, int, int]) -> QtGui.QColor:
    return QtGui.QColor(int(bgr[2]), int(bgr[1]), int(bgr[0]))


#: Skeleton colours, the export's (so a clip's skeleton looks the same in both).
QUERY_COLOUR = _qcolour(_draw.QUERY_COLOUR)
MATCH_COLOUR = _qcolour(_draw.MATCH_COLOUR)
#: A landmark is drawn from this visibility on (as the export and the features do).
MIN_VISIBILITY = 0.5
_OUTLINE = QtGui.QColor(0, 0, 0, 150)


def landmarks_for_frame(track, t: float) -> np.ndarray | None:
    """Landmarks of ``track`` for a frame shown at source time ``t`` (``None``: no person).

    The core's :func:`~avr_gui.core.features.pose.draw.landmarks_at` decides, as for the
    export: interpolated between two samples with a person, else the nearest sample
    within one sampling step.

    Parameters
    ----------
    track : PoseTrack
        ``landmarks`` shape (T, 33, 3): x, y (source pixels), visibility.
    t : float
        Seconds in the source.

    Returns
    -------
    numpy.ndarray, shape (33, 3), float32, or None
    """
    marks, valid = landmarks_at(track, np.array([t], np.float64))
    return marks[0] if bool(valid[0]) else None


def project(landmarks: np.ndarray, frame_size: tuple[int, int], rect: QtCore.QRectF) -> np.ndarray:
    """Widget coordinates of landmarks given in source pixels, for a frame drawn in ``rect``.

    Parameters
    ----------
    landmarks : numpy.ndarray, shape (33, 3) or (33, 2)
        x, y in pixels of a source of ``frame_size`` (width, height).
    frame_size : (int, int)
    rect : QRectF
        Where the whole frame is drawn.

    Returns
    -------
    numpy.ndarray, shape (33, 2), float64
    """
    w, h = max(1, int(frame_size[0])), max(1, int(frame_size[1]))
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    scale = np.array([rect.width() / w, rect.height() / h])
    return xy * scale + np.array([rect.x(), rect.y()])


def paint_skeleton(
    painter: QtGui.QPainter,
    landmarks: np.ndarray,
    frame_size: tuple[int, int],
    rect: QtCore.QRectF,
    colour: QtGui.QColor,
    *,
    min_visibility: float = MIN_VISIBILITY,
) -> int:
    """Draw the bones and joints of one person over a frame drawn in ``rect``.

    Parameters
    ----------
    painter : QPainter
        Its clip (if any) is respected; its state is restored afterwards.
    landmarks : numpy.ndarray, shape (33, 3)
        x, y (source pixels), visibility in [0, 1].
    frame_size : (int, int)
        Source (width, height) as displayed.
    rect : QRectF
        Where the frame is drawn, in the painter's coordinates.
    colour : QColor
    min_visibility : float
        Landmarks below this are left out (with their bones).

    Returns
    -------
    int
        Bones drawn.
    """
    lm = np.asarray(landmarks)
    if lm.shape != (NUM_LANDMARKS, 3):
        return 0
    xy = project(lm, frame_size, rect)
    seen = (lm[:, 2] >= min_visibility) & np.isfinite(xy).all(axis=1)
    bones = [
        QtCore.QLineF(xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1])
        for a, b in skeleton_edges
        if seen[a] and seen[b]
    ]
    joints = [QtCore.QPointF(xy[i, 0], xy[i, 1]) for i in np.flatnonzero(seen)]
    if not joints:
        return 0
    width = max(2.0, min(rect.width(), rect.height()) / 110)
    cap, join = QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin
    painter.save()
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    # A dark rim under the colour keeps the bones readable on light and dark footage.
    painter.setPen(QtGui.QPen(_OUTLINE, width + 2, QtCore.Qt.PenStyle.SolidLine, cap, join))
    painter.drawLines(bones)
    painter.setPen(QtGui.QPen(colour, width, QtCore.Qt.PenStyle.SolidLine, cap, join))
    painter.drawLines(bones)
    painter.setPen(QtGui.QPen(_OUTLINE, 1.0))
    painter.setBrush(colour)
    r = width * 0.9
    for pt in joints:
        painter.drawEllipse(pt, r, r)
    painter.restore()
    return len(bones)
