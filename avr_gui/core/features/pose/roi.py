"""Rotated square regions of interest: from keypoints, cropping, and mapping points back.

A :class:`Roi` is a rotated rectangle in image pixels. Crop coordinates ``(u, v)`` run
over ``[0, S]`` of an ``S x S`` crop; the crop's "up" (``-v``) points along the ROI's
rotation, so a person lying down comes out upright in the crop, which is what the
landmark model was trained on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avr_gui.core.errors import ShapeError
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in image pixels.

    Attributes
    ----------
    cx, cy : float
        Centre.
    width, height : float
        Side lengths before rotation.
    angle : float
        Rotation in radians, clockwise in image coordinates (y down): a crop of an ROI
        with angle ``pi/2`` has the image's +x direction as its "up".
    """

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0


def normalize_angle(a: float) -> float:
    """``a`` wrapped into ``[-pi, pi)``."""
    return a - 2.0 * math.pi * math.floor((a + math.pi) / (2.0 * math.pi))


def roi_from_keypoints(center: np.ndarray, scale_point: np.ndarray, *, scale: float = 1.25) -> Roi:
    """Square ROI from a body centre and a point that gives size and direction.

    BlazePose's detector (keypoints 0, 1) and landmark model (auxiliary landmarks 33,
    34) both give the hip centre and a point whose distance is the body's half extent
    and whose direction from the centre is the body's "up".

    Parameters
    ----------
    center, scale_point : numpy.ndarray, shape (2,)
        Pixels.
    scale : float
        Enlargement of the square whose half side is the distance of the two points.

    Returns
    -------
    Roi
    """
    c = np.asarray(center, np.float64)
    s = np.asarray(scale_point, np.float64)
    dx, dy = s[0] - c[0], s[1] - c[1]
    side = 2.0 * math.hypot(dx, dy) * scale
    # The target direction is straight up (pi/2 with y flipped): a standing person has
    # angle 0.
    angle = normalize_angle(math.pi / 2.0 - math.atan2(-dy, dx))
    return Roi(float(c[0]), float(c[1]), side, side, angle)


def crop_to_image_matrix(roi: Roi, size: int) -> np.ndarray:
    """Affine map from crop pixels to image pixels.

    Parameters
    ----------
    roi : Roi
    size : int
        Side of the square crop.

    Returns
    -------
    numpy.ndarray, shape (2, 3), float64
        ``[x, y] = M @ [u, v, 1]``.
    """
    c, s = math.cos(roi.angle), math.sin(roi.angle)
    sx, sy = roi.width / size, roi.height / size
    a = np.array([[c * sx, -s * sy], [s * sx, c * sy]])
    t = np.array([roi.cx, roi.cy]) - a @ np.array([size / 2.0, size / 2.0])
    return np.hstack([a, t[:, None]])


def image_to_crop_matrix(roi: Roi, size: int) -> np.ndarray:
    """Inverse of :func:`crop_to_image_matrix`: image pixels to crop pixels, (2, 3)."""
    return cv2.invertAffineTransform(crop_to_image_matrix(roi, size))


def _apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ShapeError(f"points must have shape [N, 2], got {p.shape}")
    return p @ m[:, :2].T + m[:, 2]


def crop_to_image(points: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """Map crop pixels ``[N, 2]`` (u, v) to image pixels ``[N, 2]`` (x, y)."""
    return _apply(crop_to_image_matrix(roi, size), points)


def image_to_crop(points: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """Map image pixels ``[N, 2]`` (x, y) to crop pixels ``[N, 2]`` (u, v)."""
    return _apply(image_to_crop_matrix(roi, size), points)


def crop(image: np.ndarray, roi: Roi, size: int) -> np.ndarray:
    """Cut the rotated ROI out of ``image`` as an upright ``size x size`` crop.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, C)
    roi : Roi
    size : int

    Returns
    -------
    numpy.ndarray, shape (size, size, C)
        Outside the image is black (what the landmark model saw in training).
    """
    return cv2.warpAffine(
        image,
        crop_to_image_matrix(roi, size),
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``image`` into a black ``size x size`` square keeping its aspect.

    The image is shrunk (area interpolation, so no aliasing) to fit the square and
    centred, with black bars on the short side.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, C)
    size : int

    Returns
    -------
    square : numpy.ndarray, shape (size, size, C)
    to_image : numpy.ndarray, shape (2, 3)
        Maps square pixels back to image pixels.
    """
    h, w = image.shape[:2]
    scale = max(w, h) / size
    nw, nh = max(1, min(size, round(w / scale))), max(1, min(size, round(h / scale)))
    interp = cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, (nw, nh), interpolation=interp)
    left, top = (size - nw) // 2, (size - nh) // 2
    square = cv2.copyMakeBorder(
        small, top, size - nh - top, left, size - nw - left, cv2.BORDER_CONSTANT, value=0
    )
    sx, sy = w / nw, h / nh
    to_image = np.array([[sx, 0.0, -left * sx], [0.0, sy, -top * sy]])
    return square, to_image
