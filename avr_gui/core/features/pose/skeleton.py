"""The 33-landmark body layout every pose backend reports in, and how others map onto it.

All backends return landmarks in BlazePose's 33-point layout, so the GUI draws one
skeleton and the pose features have one definition. A backend with fewer points
(MoveNet's 17 COCO keypoints) fills the points it has and leaves the others at
visibility 0. Penn Action's 13 annotated joints are a subset (:data:`PENN13`).

"Left" and "right" are the person's own sides.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import ShapeError

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)

#: Bones to draw, as pairs of landmark indices (draw one when both ends are visible).
skeleton_edges: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31),
    (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
)  # fmt: skip

#: Penn Action's 13 joints in Penn's order (head, shoulders, elbows, wrists, hips, knees,
#: ankles; left before right) as indices into the 33 landmarks (the nose stands for the
#: head).
PENN13: tuple[int, ...] = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
PENN13_NAMES: tuple[str, ...] = (
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: MoveNet / COCO keypoint k is landmark COCO17[k].
COCO17: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def _mirror_perm(names: tuple[str, ...]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}

    def other(n: str) -> str:
        if "left" in n:
            return n.replace("left", "right")
        if "right" in n:
            return n.replace("right", "left")
        return n

    return np.array([index[other(n)] for n in names], np.int64)


#: Landmark i of a mirrored person is landmark MIRROR33[i] of the original.
MIRROR33: np.ndarray = _mirror_perm(LANDMARK_NAMES)
#: The same for the 13 Penn joints.
MIRROR13: np.ndarray = _mirror_perm(PENN13_NAMES)


def blazepose_to_penn13(landmarks: np.ndarray) -> np.ndarray:
    """Pick Penn Action's 13 joints out of 33-point landmarks.

    Parameters
    ----------
    landmarks : numpy.ndarray, shape (..., 33, C)
        Usually ``C = 3`` (x, y, visibility).

    Returns
    -------
    numpy.ndarray, shape (..., 13, C)
    """
    lm = np.asarray(landmarks)
    if lm.ndim < 2 or lm.shape[-2] != NUM_LANDMARKS:
        raise ShapeError(f"landmarks must have shape [..., 33, C], got {lm.shape}")
    return lm[..., list(PENN13), :]


def coco17_to_blazepose(keypoints: np.ndarray) -> np.ndarray:
    """Place 17 COCO keypoints into the 33-point layout (the rest get zeros).

    Parameters
    ----------
    keypoints : numpy.ndarray, shape (..., 17, C)

    Returns
    -------
    numpy.ndarray, shape (..., 33, C), float32
    """
    kp = np.asarray(keypoints, np.float32)
    if kp.ndim < 2 or kp.shape[-2] != len(COCO17):
        raise ShapeError(f"keypoints must have shape [..., 17, C], got {kp.shape}")
    out = np.zeros((*kp.shape[:-2], NUM_LANDMARKS, kp.shape[-1]), np.float32)
    out[..., list(COCO17), :] = kp
    return out
