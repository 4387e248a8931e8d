"""Skeletons on frames: landmarks of a track at any frame time, and bones drawn with OpenCV.

A :class:`~avr_gui.core.features.pose.encoder.PoseTrack` holds landmarks on the sampled
frames of a clip (10 per second in a library); a player or an export shows every frame.
:func:`landmarks_at` gives the landmarks at any times: between two samples that both see
a person it interpolates the positions linearly (and keeps the lower visibility, so a
joint is drawn only when both samples saw it); elsewhere it takes the nearest sample
within one sampling step, and nothing where that sample has no person.

:func:`draw_skeleton` draws the bones of :data:`skeleton_edges` and the joints of one
frame's landmarks into a BGR image, in place. The export uses it; the GUI may too.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS, skeleton_edges
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

#: Default colours (BGR): the query's skeleton and the match's, apart in hue and tone.
QUERY_COLOUR: tuple[int, int, int] = (0, 170, 255)
MATCH_COLOUR: tuple[int, int, int] = (255, 200, 0)

# Sub-pixel precision of the drawn lines (OpenCV ``shift``): 4 fractional bits.
_SHIFT = 4
_ONE = 1 << _SHIFT
_EDGES = np.array(skeleton_edges, np.int64)


def default_thickness(width: int, height: int) -> int:
    """Bone width in pixels for a picture of this size (about 1/300 of its longer side).

    Parameters
    ----------
    width, height : int

    Returns
    -------
    int
        At least 1.
    """
    return max(1, round(max(width, height) / 300))


def draw_skeleton(
    image_bgr: np.ndarray,
    landmarks_xy_vis: np.ndarray,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    colour: tuple[int, int, int] = MATCH_COLOUR,
    min_visibility: float = 0.5,
    offset: tuple[float, float] = (0.0, 0.0),
    thickness: int | None = None,
) -> None:
    """Draw one frame's skeleton into ``image_bgr`` (in place).

    A bone of :data:`skeleton_edges` is drawn when both its ends have visibility of at
    least ``min_visibility``; each such joint gets a dot. Points outside the image are
    clipped by OpenCV.

    Parameters
    ----------
    image_bgr : numpy.ndarray, shape (H, W, 3), uint8
        Modified in place; must be writable and C-contiguous.
    landmarks_xy_vis : numpy.ndarray, shape (33, 3)
        ``x, y`` in the pixels of the frame the landmarks were found in, and visibility
        in [0, 1]. Non-finite points are skipped.
    scale : (float, float)
        ``(sx, sy)``: image pixels per landmark pixel (the image's size over the
        track's ``frame_size``).
    colour : (int, int, int)
        BGR.
    min_visibility : float
    offset : (float, float)
        Added after scaling: where the frame's top left corner lies in ``image_bgr``
        (a panel of a composed picture).
    thickness : int, optional
        Bone width in pixels; default :func:`default_thickness` of the image.

    Raises
    ------
    ShapeError
        ``landmarks_xy_vis`` is not ``[33, 3]`` or the image is not ``[H, W, 3]`` uint8.
    InputError
        The image is read-only or not C-contiguous (it could not be drawn into).
    """
    lm = np.asarray(landmarks_xy_vis, np.float64)
    if lm.shape != (NUM_LANDMARKS, 3):
        raise ShapeError(f"landmarks must have shape [33, 3], got {lm.shape}")
    img = image_bgr
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        raise ShapeError(f"the image must have shape [H, W, 3], got {np.shape(img)}")
    if img.dtype != np.uint8:
        raise ShapeError(f"the image must be uint8, got {img.dtype}")
    if not img.flags.writeable or not img.flags.c_contiguous:
        raise InputError("the image must be a writable, C-contiguous array to draw into")
    sx, sy = (float(s) for s in scale)
    ox, oy = (float(o) for o in offset)
    xy = lm[:, :2] * (sx, sy) + (ox, oy)
    seen = (lm[:, 2] >= min_visibility) & np.isfinite(xy).all(axis=1) & np.isfinite(lm[:, 2])
    if not seen.any():
        return
    # Far-away points (a wrong scale, a glitch) would overflow OpenCV's integer maths.
    limit = 8.0 * max(img.shape[0], img.shape[1]) + 1.0
    seen &= (np.abs(xy) < limit).all(axis=1)
    fixed = np.zeros((NUM_LANDMARKS, 2), np.int64)
    fixed[seen] = np.round(xy[seen] * _ONE).astype(np.int64)
    width = thickness if thickness is not None else default_thickness(img.shape[1], img.shape[0])
    width = max(1, int(width))
    bgr = tuple(int(c) for c in colour)
    for a, b in _EDGES[seen[_EDGES[:, 0]] & seen[_EDGES[:, 1]]]:
        pa = (int(fixed[a, 0]), int(fixed[a, 1]))
        pb = (int(fixed[b, 0]), int(fixed[b, 1]))
        cv2.line(img, pa, pb, bgr, width, cv2.LINE_AA, _SHIFT)
    radius = (width + 1) * _ONE
    for k in np.flatnonzero(seen):
        centre = (int(fixed[k, 0]), int(fixed[k, 1]))
        cv2.circle(img, centre, radius, bgr, -1, cv2.LINE_AA, _SHIFT)


def landmarks_at(track: PoseTrack, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of ``track`` at arbitrary times (frames between the sampled ones).

    Parameters
    ----------
    track : PoseTrack
        Samples at ``track.timestamps`` ``[T]`` (increasing).
    times : numpy.ndarray, shape (N,)
        Seconds on the same clock (the source's presentation times).

    Returns
    -------
    landmarks : numpy.ndarray, shape (N, 33, 3), float32
        Source display pixels and visibility; zeros where ``valid`` is False.
    valid : numpy.ndarray, shape (N,), bool
        A person is shown at that time: between two samples that both have a pose, or
        within one sampling step of a sample that has one (the nearer sample decides).
    """
    t = np.asarray(times, np.float64).reshape(-1)
    n = t.shape[0]
    out = np.zeros((n, NUM_LANDMARKS, 3), np.float32)
    valid = np.zeros(n, bool)
    ts = np.asarray(track.timestamps, np.float64)
    if n == 0 or ts.shape[0] == 0:
        return out, valid
    has = np.asarray(track.has_pose, bool)
    marks = np.asarray(track.landmarks, np.float32)
    step = float(np.median(np.diff(ts))) if ts.shape[0] > 1 else np.inf
    # A gap much longer than the sampling step (a damaged stretch, a VFR pause) is not
    # bridged: the motion inside it is unknown.
    bridge = 2.5 * step
    near_tol = step if np.isfinite(step) else 0.5
    eps = 1e-6
    finite = np.isfinite(t)
    right = np.searchsorted(ts, t, side="right")  # first sample after t
    left = right - 1  # last sample at or before t
    has_left = finite & (left >= 0)
    has_right = finite & (right < ts.shape[0])
    li = np.clip(left, 0, ts.shape[0] - 1)
    ri = np.clip(right, 0, ts.shape[0] - 1)
    # Between two samples with a person: interpolate.
    between = has_left & has_right & has[li] & has[ri] & (ts[ri] - ts[li] <= bridge)
    exact = has_left & (np.abs(t - ts[li]) <= eps) & has[li]
    if between.any():
        k = np.flatnonzero(between)
        a, b = li[k], ri[k]
        w = ((t[k] - ts[a]) / (ts[b] - ts[a])).astype(np.float32)[:, None, None]
        out[k, :, :2] = (1.0 - w) * marks[a, :, :2] + w * marks[b, :, :2]
        out[k, :, 2] = np.minimum(marks[a, :, 2], marks[b, :, 2])
        valid[k] = True
    # Exactly on a sample (always the sample's own landmarks), or otherwise the nearest
    # sample within one step when it sees a person.
    dl = np.where(has_left, t - ts[li], np.inf)
    dr = np.where(has_right, ts[ri] - t, np.inf)
    nearest = np.where(dl <= dr, li, ri)
    dist = np.minimum(dl, dr)
    near = ~between & finite & (dist <= near_tol + eps) & has[nearest]
    take = exact | near
    if take.any():
        k = np.flatnonzero(take)
        src = np.where(exact[k], li[k], nearest[k])
        out[k] = marks[src]
        valid[k] = True
    return out, valid
