"""BlazePose (33 landmarks) on ai-edge-litert: detect, crop, landmarks, track.

Per frame:

1. Without a tracked region, the detector runs on the letterboxed frame; among the
   people it finds, the largest body is the main person. Its hip centre and the
   full-body keypoint give a rotated square ROI (side 2.5 x their distance).
2. The ROI is cut out upright at 256 x 256 and the landmark model returns 39 points
   (33 body landmarks and auxiliary ones), visibilities and a person-present score.
3. If the person is present, the auxiliary hip-centre and body-extent landmarks give
   the ROI of the next frame: the detector is not run again while tracking holds.
   If not, the frame has no pose and, when the ROI came from tracking, the detector
   runs again on the same frame, so a person who leaves and comes back is found on the
   first frame they are visible.
4. A scene cut (a large change of a tiny grey thumbnail, made from a strided subsample
   of the frame) or a new frame size drops the tracked ROI, so tracking never carries
   over from one clip to the next.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import avr_gui.core.features.pose.detector as det
from avr_gui.core.errors import InputError
from avr_gui.core.features.base import WeightsError
from avr_gui.core.features.pose._litert import TfliteModel
from avr_gui.core.features.pose.models import blazepose_model_paths
from avr_gui.core.features.pose.roi import Roi, crop, crop_to_image, letterbox, roi_from_keypoints
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

LANDMARK_INPUT = 256
_RAW_POINTS = 39  # 33 landmarks + 6 auxiliary ones
_AUX_CENTER, _AUX_SCALE = 33, 34
ROI_SCALE = 1.25
# Mean absolute difference (grey levels) of 32x32 thumbnails above which two
# consecutive frames count as different shots.
SCENE_CUT = 40.0
# Short side (pixels) the frame is subsampled to, by striding, before the thumbnail.
_THUMB_SOURCE = 128


@dataclass(frozen=True)
class PoseBatch:
    """Landmarks of a batch of frames.

    Attributes
    ----------
    landmarks : numpy.ndarray, shape (T, 33, 3), float32
        ``x, y`` in pixels of the frames given, and visibility in [0, 1]. Frames
        without a person are all zeros.
    has_pose : numpy.ndarray, shape (T,), bool
    """

    landmarks: np.ndarray
    has_pose: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def _output(model: TfliteModel, outs: list[np.ndarray], size: int) -> np.ndarray:
    for o in outs:
        if o.size == size:
            return o.reshape(-1)
    raise WeightsError(f"{model.path}: no output with {size} values; not the expected model")


class BlazePose:
    """BlazePose detector + full landmark model with ROI tracking.

    Parameters
    ----------
    model_dir : path-like, optional
        Folder with the installed models (default: the user's model folder).
    num_threads : int, optional
    min_detection : float
        Detector score threshold.
    min_presence : float
        Person-present score below which a frame has no pose.
    full_graph : bool
        Run the whole landmark model. By default it is cut down to the landmarks and
        the presence score, leaving out the segmentation mask, heatmap and world
        landmarks nothing here reads (same landmarks, 30-45 % less time); True is
        for comparing the two.
    """

    name = "blazepose"
    num_landmarks = NUM_LANDMARKS

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        *,
        num_threads: int | None = None,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        full_graph: bool = False,
    ) -> None:
        det_path, lm_path = blazepose_model_paths(model_dir)
        self._detector = TfliteModel(det_path, num_threads)
        keep = None if full_graph else (_RAW_POINTS * 5, 1)
        self._landmarker = TfliteModel(lm_path, num_threads, keep=keep)
        if self._detector.input_shape[1:3] != (det.INPUT_SIZE, det.INPUT_SIZE):
            raise WeightsError(f"{det_path}: unexpected input {self._detector.input_shape}")
        if self._landmarker.input_shape[1:3] != (LANDMARK_INPUT, LANDMARK_INPUT):
            raise WeightsError(f"{lm_path}: unexpected input {self._landmarker.input_shape}")
        self._anchors = det.ssd_anchors()
        self.min_detection = min_detection
        self.min_presence = min_presence
        self.files = (det_path, lm_path)
        self.detector_runs = 0
        self.reset()

    def reset(self) -> None:
        """Forget the tracked person (call between clips)."""
        self._roi: Roi | None = None
        # Centre and scale of the person tracked last (kept when the track is lost, so
        # that re-detection prefers the same performer; cleared at a scene cut).
        self._last: tuple[np.ndarray, float] | None = None
        self._thumb: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None

    def detect(self, image: np.ndarray) -> det.Detections:
        """People in a BGR frame, in its pixels, best score first.

        Parameters
        ----------
        image : numpy.ndarray, shape (H, W, 3), uint8 BGR

        Returns
        -------
        Detections
        """
        square, to_image = letterbox(image, det.INPUT_SIZE)
        x = cv2.cvtColor(square, cv2.COLOR_BGR2RGB).astype(np.float32)
        x = x[None] * (2.0 / 255.0) - 1.0
        outs = self._detector.run(x)
        self.detector_runs += 1
        n = self._anchors.shape[0]
        boxes = _output(self._detector, outs, n * det.NUM_COORDS).reshape(n, det.NUM_COORDS)
        scores = _output(self._detector, outs, n)
        found = det.decode(boxes, scores, self._anchors, min_score=self.min_detection)
        merged = det.weighted_nms(found)
        # Normalised square coordinates -> square pixels -> frame pixels.
        m = to_image @ np.array(
            [[det.INPUT_SIZE, 0.0, 0.0], [0.0, det.INPUT_SIZE, 0.0], [0.0, 0.0, 1.0]]
        )
        return merged.mapped(m)

    def landmarks_in(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, float]:
        """Run the landmark model on one ROI.

        Returns
        -------
        points : numpy.ndarray, shape (39, 3), float64
            ``x, y`` in frame pixels and visibility, for the 33 landmarks and the six
            auxiliary points.
        presence : float
            Probability that a person is in the ROI.
        """
        patch = crop(image, roi, LANDMARK_INPUT)
        x = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB).astype(np.float32)[None] * (1.0 / 255.0)
        outs = self._landmarker.run(x)
        raw = _output(self._landmarker, outs, _RAW_POINTS * 5).reshape(_RAW_POINTS, 5)
        flag = float(_output(self._landmarker, outs, 1)[0])
        pts = np.empty((_RAW_POINTS, 3))
        pts[:, :2] = crop_to_image(raw[:, :2], roi, LANDMARK_INPUT)
        pts[:, 2] = _sigmoid(raw[:, 3])
        return pts, flag

    def _main_person(self, dets: det.Detections, image: np.ndarray) -> Roi | None:
        h, w = image.shape[:2]
        k = det.choose_performer(dets.keypoints, (w, h), self._last)
        if k is None:
            return None
        return roi_from_keypoints(dets.keypoints[k, 0], dets.keypoints[k, 1], scale=ROI_SCALE)

    def _scene_changed(self, image: np.ndarray) -> bool:
        # Every k-th pixel first: converting and area-averaging the whole frame cost
        # 1.4 ms a frame, more than the rest of the bookkeeping together. The strided
        # view keeps >= 4 samples per thumbnail pixel each way; on the 3781 frames of the
        # E3/E3b clips it moved the cut measure by at most 1.3 grey levels and changed
        # no cut decision.
        step = max(1, min(image.shape[:2]) // _THUMB_SOURCE)
        small = np.ascontiguousarray(image[::step, ::step]) if step > 1 else image
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        thumb = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
        changed = (
            self._shape != image.shape
            or self._thumb is None
            or float(np.abs(thumb - self._thumb).mean()) > SCENE_CUT
        )
        self._thumb, self._shape = thumb, image.shape
        return changed

    def process(self, image: np.ndarray) -> tuple[np.ndarray, bool]:
        """Landmarks of the main person in one frame, tracking from the previous one.

        Parameters
        ----------
        image : numpy.ndarray, shape (H, W, 3), uint8 BGR

        Returns
        -------
        landmarks : numpy.ndarray, shape (33, 3), float32
            ``x, y`` in the frame's pixels, visibility; zeros without a person.
        has_pose : bool
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"expected an [H, W, 3] uint8 frame, got {image.shape} {image.dtype}")
        if self._scene_changed(image):
            self._roi = None
            self._last = None
        tracked = self._roi is not None
        roi = self._roi if tracked else self._main_person(self.detect(image), image)
        for attempt in range(2):
            if roi is None:
                break
            pts, presence = self.landmarks_in(image, roi)
            if presence >= self.min_presence:
                self._roi = roi_from_keypoints(pts[_AUX_CENTER, :2], pts[_AUX_SCALE, :2])
                c = pts[_AUX_CENTER, :2].copy()
                self._last = (c, float(np.linalg.norm(pts[_AUX_SCALE, :2] - c)))
                return pts[:NUM_LANDMARKS].astype(np.float32), True
            if attempt == 0 and tracked:
                roi = self._main_person(self.detect(image), image)
            else:
                break
        self._roi = None
        return np.zeros((NUM_LANDMARKS, 3), np.float32), False

    def estimate(self, frames: Sequence[np.ndarray]) -> PoseBatch:
        """Landmarks of consecutive frames of one clip (tracking carries across calls).

        Parameters
        ----------
        frames : sequence of numpy.ndarray, each shape (H, W, 3), uint8 BGR

        Returns
        -------
        PoseBatch
        """
        lm = np.zeros((len(frames), NUM_LANDMARKS, 3), np.float32)
        ok = np.zeros(len(frames), bool)
        for k, f in enumerate(frames):
            lm[k], ok[k] = self.process(f)
        return PoseBatch(lm, ok)
