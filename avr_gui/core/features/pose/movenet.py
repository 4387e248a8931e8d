"""A user-supplied MoveNet SinglePose ``.tflite`` (Lightning or Thunder, int8 or float).

MoveNet takes one square RGB image (``uint8``, or ``float32`` holding 0..255) and
returns 17 COCO keypoints as ``(y, x, score)`` normalised to that square. The first
frame (and any frame after the person was lost) is seen whole, letterboxed; after that
the crop follows the person: a square around the previous frame's confident keypoints,
enlarged so limbs moving between frames stay inside. Keypoints are returned in the
33-landmark layout (:mod:`~avr_gui.core.features.pose.skeleton`), score as visibility.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.features.base import WeightsError
from avr_gui.core.features.pose._litert import TfliteModel
from avr_gui.core.features.pose.blazepose import SCENE_CUT, PoseBatch
from avr_gui.core.features.pose.roi import Roi, crop, crop_to_image
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS, coco17_to_blazepose
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

NUM_KEYPOINTS = 17
# A keypoint this confident counts for presence and for the next crop.
KEYPOINT_SCORE = 0.3
# So many confident keypoints make a person.
MIN_KEYPOINTS = 5
# Side of the tracking crop relative to the keypoints' extent.
CROP_MARGIN = 1.8


class MoveNet:
    """MoveNet SinglePose from a ``.tflite`` file.

    Parameters
    ----------
    path : path-like
    num_threads : int, optional
    min_score : float
        Keypoint score for presence and tracking.
    """

    name = "movenet"
    num_landmarks = NUM_LANDMARKS

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        num_threads: int | None = None,
        min_score: float = KEYPOINT_SCORE,
    ) -> None:
        self._model = TfliteModel(path, num_threads)
        shape = self._model.input_shape
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
            raise WeightsError(f"{path}: input shape {shape} is not MoveNet's [1, S, S, 3]")
        if self._model.input_dtype not in (np.uint8, np.float32):
            raise WeightsError(f"{path}: input type {self._model.input_dtype} not supported")
        outs = self._model.outputs
        if len(outs) != 1 or int(np.prod(outs[0]["shape"])) != NUM_KEYPOINTS * 3:
            raise WeightsError(
                f"{path}: outputs are not MoveNet SinglePose's [1, 1, 17, 3] "
                "(MultiPose models are not supported)"
            )
        self.size = int(shape[1])
        self.min_score = min_score
        self.files = (self._model.path,)
        self.reset()

    def reset(self) -> None:
        """Forget the tracked person (call between clips)."""
        self._roi: Roi | None = None
        self._thumb: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None

    def keypoints_in(self, image: np.ndarray, roi: Roi) -> np.ndarray:
        """17 keypoints ``[17, 3]`` (x, y in frame pixels, score) seen through ``roi``."""
        patch = cv2.cvtColor(crop(image, roi, self.size), cv2.COLOR_BGR2RGB)
        x = patch[None].astype(self._model.input_dtype)
        raw = self._model.run(x)[0].reshape(NUM_KEYPOINTS, 3)
        out = np.empty((NUM_KEYPOINTS, 3))
        out[:, :2] = crop_to_image(raw[:, [1, 0]] * self.size, roi, self.size)
        out[:, 2] = raw[:, 2]
        return out

    def _scene_changed(self, image: np.ndarray) -> bool:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        thumb = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
        changed = (
            self._shape != image.shape
            or self._thumb is None
            or float(np.abs(thumb - self._thumb).mean()) > SCENE_CUT
        )
        self._thumb, self._shape = thumb, image.shape
        return changed

    def process(self, image: np.ndarray) -> tuple[np.ndarray, bool]:
        """Keypoints of the person in one frame, as 33 landmarks ``[33, 3]``, and presence.

        See :meth:`BlazePose.process
        <avr_gui.core.features.pose.blazepose.BlazePose.process>`.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"expected an [H, W, 3] uint8 frame, got {image.shape} {image.dtype}")
        h, w = image.shape[:2]
        whole = Roi(w / 2.0, h / 2.0, float(max(w, h)), float(max(w, h)))
        if self._scene_changed(image):
            self._roi = None
        tracked = self._roi is not None
        roi = self._roi if tracked else whole
        for attempt in range(2):
            kp = self.keypoints_in(image, roi)
            good = kp[:, 2] >= self.min_score
            if good.sum() >= MIN_KEYPOINTS:
                lo, hi = kp[good, :2].min(axis=0), kp[good, :2].max(axis=0)
                side = max(float((hi - lo).max()) * CROP_MARGIN, max(w, h) / 4.0)
                c = (lo + hi) / 2.0
                self._roi = Roi(float(c[0]), float(c[1]), side, side)
                return coco17_to_blazepose(kp), True
            if attempt == 0 and tracked:
                roi = whole
            else:
                break
        self._roi = None
        return np.zeros((NUM_LANDMARKS, 3), np.float32), False

    def estimate(self, frames: Sequence[np.ndarray]) -> PoseBatch:
        """Landmarks of consecutive frames of one clip; see :class:`PoseBatch`."""
        lm = np.zeros((len(frames), NUM_LANDMARKS, 3), np.float32)
        ok = np.zeros(len(frames), bool)
        for k, f in enumerate(frames):
            lm[k], ok[k] = self.process(f)
        return PoseBatch(lm, ok)
