"""Libraries made from joints instead of videos (Penn Action annotations, drawn skeletons).

An ``auto`` library stores, per clip, features and the landmarks its pose model found.
Clips given as 13 joints (Penn Action's layout) become such clips without any video:
the landmarks are the joints placed in the 33-point layout, the pose block of the
features is computed from them as indexing would, and the alignment block is their
pose-motion features (there are no pixels to describe). Tests and benchmarks use it to
build libraries of hundreds of performances in seconds, and the library reads their
poses through the very code paths it uses for indexed videos
(:meth:`~avr_gui.core.library.Library.pose_track`, performer search, ``avr learn``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.errors import ShapeError
from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.motion import motion_features
from avr_gui.core.features.pose.normalize import NUM_JOINTS, penn_pose_features
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS, PENN13
from avr_gui.core.features.sequence import FeatureSequence

if TYPE_CHECKING:
    from avr_gui.core.library import Library

#: Encoder identity of such clips: ``auto`` (pose decides per clip), marked as imported
#: so a library of them is never mixed with videos encoded by the real pose model.
ENCODER = "auto"
ENCODER_VERSION = "auto-v1-joints"


def joints_to_landmarks(joints: np.ndarray) -> np.ndarray:
    """13 joints in Penn order placed in the 33-point layout (the rest unseen).

    Parameters
    ----------
    joints : numpy.ndarray, shape (T, 13, 3)
        ``x, y`` in pixels, visibility.

    Returns
    -------
    numpy.ndarray, shape (T, 33, 3), float32
    """
    j = np.asarray(joints, np.float32)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise ShapeError(f"joints must have shape [T, 13, 3], got {j.shape}")
    out = np.zeros((len(j), NUM_LANDMARKS, 3), np.float32)
    out[:, list(PENN13), :] = j
    return out


def joints_clip(
    name: str,
    joints: np.ndarray,
    *,
    fps: float = 10.0,
    frame_size: tuple[int, int] = (640, 480),
) -> tuple[FeatureSequence, PoseTrack]:
    """Features and pose track of one clip given as joints.

    Parameters
    ----------
    name : str
        The clip's name in the library.
    joints : numpy.ndarray, shape (T, 13, 3)
    fps : float
        Frame rate of the joints.
    frame_size : tuple of int

    Returns
    -------
    features : FeatureSequence
        ``[T, 40 + 50]``: the pose block and the pose-motion features.
    track : PoseTrack
    """
    lm = joints_to_landmarks(joints)
    vis = lm[..., 2] >= 0.5
    has_pose = vis[:, list(PENN13)].sum(axis=1) >= 4
    pose = penn_pose_features(np.asarray(joints, np.float64), has_pose)
    motion, _ = motion_features(np.asarray(joints, np.float64))
    t = np.arange(len(lm), dtype=np.float64) / fps
    idx = np.arange(len(lm), dtype=np.int64)
    feats = np.concatenate([pose, motion], axis=1).astype(np.float32)
    seq = FeatureSequence(feats, t, idx, name, ENCODER, ENCODER_VERSION)
    return seq, PoseTrack(lm, has_pose, t, idx, frame_size, ENCODER, name)


def add_joint_clips(lib: Library, clips: Iterable[tuple[str, np.ndarray]], **kw: object) -> int:
    """Add clips given as joints to an (empty or joints-made) ``auto`` library.

    Parameters
    ----------
    lib : Library
    clips : iterable of (name, joints [T, 13, 3])
        ``name`` is the clip's catalog path (``squat/clip 3``: its folder is
        ``squat``).
    **kw
        Passed to :func:`joints_clip`.

    Returns
    -------
    int
        Clips added.
    """
    items, tracks = [], {}
    for name, joints in clips:
        seq, track = joints_clip(name, joints, **kw)  # type: ignore[arg-type]
        items.append((name, seq))
        tracks[name] = track
    return lib.add_features(items, tracks=tracks)
