"""The pose feature vector: one definition for Penn Action joints (E2) and video (E3).

Per frame, from 13 joints (Penn Action's: head, shoulders, elbows, wrists, hips, knees,
ankles; from video, the matching BlazePose landmarks, see
:func:`~avr_gui.core.features.pose.skeleton.blazepose_to_penn13`):

- a joint is *visible* when its visibility is at least ``vis_threshold``;
- the body centre is the mean of the visible shoulders and hips (all visible joints if
  none of those is);
- the body size is the torso length, shoulder midpoint to hip midpoint, which does not
  change when the person bends, turns or lies down (when a shoulder or hip pair is
  unseen: the RMS distance of the visible joints from the centre, times a constant that
  makes the two agree on average);
- each visible joint becomes ``(x - cx, y - cy) / size``; invisible joints are 0.

Layout of the ``[T, 40]`` vector (:data:`POSE_DIM`):
``[dx_1..dx_13, dy_1..dy_13, vis_weight * visible_1..13, has_pose]``.
The last column is :data:`HAS_POSE_VALUE` for a frame with a person and 0 for a frame
without one (then the whole row is 0): that column is the has-pose mask that lets
alignment fall back to appearance for the frame (:func:`has_pose_mask`).

Mirroring (``mirror=True``) flips x and swaps left and right joints, so a left-handed
golfer's swing looks like a right-handed one's.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import ShapeError
from avr_gui.core.features.pose.skeleton import MIRROR13, blazepose_to_penn13

NUM_JOINTS = 13
POSE_DIM = 3 * NUM_JOINTS + 1
#: Column of the has-pose flag in every pose and fused feature vector.
HAS_POSE_COLUMN = 3 * NUM_JOINTS
#: Value of that column for a frame with a person; small so that the constant barely
#: moves cosine similarities, but never 0.
HAS_POSE_VALUE = 0.25
# Fewer visible joints than this: not enough of a person to describe.
MIN_VISIBLE = 4
_SHOULDERS, _HIPS = (1, 2), (7, 8)
# Median torso length / RMS joint spread over the Penn Action training frames where both
# are defined (0.945; only used when a shoulder or hip pair is unseen).
TORSO_PER_RMS = 0.95
# Coordinates beyond this many torso lengths are detector noise, not a pose.
_CLIP = 4.0


def _joints(joints: np.ndarray) -> np.ndarray:
    j = np.asarray(joints, np.float64)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise ShapeError(f"joints must have shape [T, 13, 3] (x, y, visibility), got {j.shape}")
    return j


def _masked_mean(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of x [T, J] over joints weighted by the mask w [T, J]; and whether any."""
    n = w.sum(axis=1)
    return (x * w).sum(axis=1) / np.maximum(n, 1), n > 0


def penn_pose_features(
    joints: np.ndarray,
    has_pose: np.ndarray | None = None,
    *,
    mirror: bool = False,
    vis_threshold: float = 0.5,
    vis_weight: float = 0.0,
) -> np.ndarray:
    """Pose feature vectors of 13-joint poses (Penn Action order).

    Parameters
    ----------
    joints : numpy.ndarray, shape (T, 13, 3)
        ``x, y`` (any pixel units, y down) and visibility (0/1 for Penn Action, a
        probability from a pose model).
    has_pose : numpy.ndarray, shape (T,), bool, optional
        Frames known to have no person (all-zero rows regardless of the joints).
    mirror : bool
        Describe the mirror image of the pose.
    vis_threshold : float
    vis_weight : float
        Weight of the visibility block relative to the coordinates. Default 0 (the
        block stays, zero, so the layout never changes): on Penn Action (E2) recall@1
        is 0.948 with 0 and 0.913 with 0.5 or 1; invisible joints are 0 either way.

    Returns
    -------
    numpy.ndarray, shape (T, 40), float32
        Layout in the module docstring.
    """
    j = _joints(joints)
    t = j.shape[0]
    x, y = j[:, :, 0], j[:, :, 1]
    v = (j[:, :, 2] >= vis_threshold) & np.isfinite(x) & np.isfinite(y)
    x, y = np.where(v, x, 0.0), np.where(v, y, 0.0)
    vf = v.astype(np.float64)
    torso = list(_SHOULDERS + _HIPS)
    cx_t, has_t = _masked_mean(x[:, torso], vf[:, torso])
    cy_t, _ = _masked_mean(y[:, torso], vf[:, torso])
    cx_a, _ = _masked_mean(x, vf)
    cy_a, _ = _masked_mean(y, vf)
    cx, cy = np.where(has_t, cx_t, cx_a), np.where(has_t, cy_t, cy_a)
    sx, has_s = _masked_mean(x[:, list(_SHOULDERS)], vf[:, list(_SHOULDERS)])
    sy, _ = _masked_mean(y[:, list(_SHOULDERS)], vf[:, list(_SHOULDERS)])
    hx, has_h = _masked_mean(x[:, list(_HIPS)], vf[:, list(_HIPS)])
    hy, _ = _masked_mean(y[:, list(_HIPS)], vf[:, list(_HIPS)])
    torso_len = np.hypot(sx - hx, sy - hy)
    dx, dy = x - cx[:, None], y - cy[:, None]
    rms = np.sqrt(((dx**2 + dy**2) * vf).sum(axis=1) / np.maximum(vf.sum(axis=1), 1))
    size = np.where(has_s & has_h & (torso_len > 0), torso_len, rms * TORSO_PER_RMS)
    ok = (v.sum(axis=1) >= MIN_VISIBLE) & (size > 1e-6)
    if has_pose is not None:
        hp = np.asarray(has_pose, bool).reshape(-1)
        if hp.shape != (t,):
            raise ShapeError(f"has_pose must have shape [{t}], got {hp.shape}")
        ok &= hp
    safe = np.where(ok, size, 1.0)[:, None]
    dx = np.clip(np.where(v, dx / safe, 0.0), -_CLIP, _CLIP)
    dy = np.clip(np.where(v, dy / safe, 0.0), -_CLIP, _CLIP)
    if mirror:
        dx, dy, vf = -dx[:, MIRROR13], dy[:, MIRROR13], vf[:, MIRROR13]
    out = np.concatenate([dx, dy, vis_weight * vf, np.full((t, 1), HAS_POSE_VALUE)], axis=1)
    out[~ok] = 0.0
    return np.ascontiguousarray(out, dtype=np.float32)


def pose_features(
    landmarks: np.ndarray,
    has_pose: np.ndarray | None = None,
    *,
    mirror: bool = False,
    vis_threshold: float = 0.5,
    vis_weight: float = 0.0,
) -> np.ndarray:
    """Pose feature vectors of 33-point landmarks (any backend).

    Parameters
    ----------
    landmarks : numpy.ndarray, shape (T, 33, 3)
        ``x, y`` in pixels and visibility.
    has_pose : numpy.ndarray, shape (T,), bool, optional
    mirror, vis_threshold, vis_weight
        See :func:`penn_pose_features`.

    Returns
    -------
    numpy.ndarray, shape (T, 40), float32
    """
    return penn_pose_features(
        blazepose_to_penn13(landmarks),
        has_pose,
        mirror=mirror,
        vis_threshold=vis_threshold,
        vis_weight=vis_weight,
    )


def mirror_features(features: np.ndarray) -> np.ndarray:
    """Mirror pose (or fused) feature vectors without re-running the pose model.

    Parameters
    ----------
    features : numpy.ndarray, shape (T, d), d >= 40
        The first 40 columns in :func:`penn_pose_features` layout.

    Returns
    -------
    numpy.ndarray, shape (T, d), float32
    """
    f = np.array(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[1] < POSE_DIM:
        raise ShapeError(f"expected pose features [T, >= {POSE_DIM}], got {f.shape}")
    n = NUM_JOINTS
    f[:, :n] = -f[:, :n][:, MIRROR13]
    f[:, n : 2 * n] = f[:, n : 2 * n][:, MIRROR13]
    f[:, 2 * n : 3 * n] = f[:, 2 * n : 3 * n][:, MIRROR13]
    return f


def has_pose_mask(features: np.ndarray) -> np.ndarray:
    """Which frames of pose (or fused) features have a person.

    Parameters
    ----------
    features : numpy.ndarray, shape (T, d), d >= 40

    Returns
    -------
    numpy.ndarray, shape (T,), bool
    """
    f = np.asarray(features)
    if f.ndim != 2 or f.shape[1] < POSE_DIM:
        raise ShapeError(f"expected pose features [T, >= {POSE_DIM}], got {f.shape}")
    return f[:, HAS_POSE_COLUMN] > 0
