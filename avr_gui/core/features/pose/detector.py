"""BlazePose person detector: SSD anchors, box and keypoint decoding, weighted NMS.

The detector sees a letterboxed 224 x 224 RGB image in [-1, 1] and scores 2,254 anchors
(28x28x2 at stride 8, 14x14x2 at stride 16, 7x7x6 at stride 32). Per anchor it returns 12
numbers: box centre offset, box size, and four keypoints (hip centre, a point giving
full-body size and direction, shoulder centre, a point giving upper-body size), all in
input pixels relative to the anchor centre. Overlapping detections are merged by a
score-weighted average rather than dropped, which steadies the box from frame to frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avr_gui.core.errors import ShapeError

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2  # aspect ratio 1 plus the interpolated-scale anchor
NUM_KEYPOINTS = 4
NUM_COORDS = 4 + 2 * NUM_KEYPOINTS
# The model's raw logits are clipped before the sigmoid, as in its reference decoder.
_SCORE_CLIP = 100.0


def ssd_anchors(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Anchor centres of the detector, in the order of its outputs.

    Consecutive layers with one stride share a grid; each cell holds
    ``ANCHORS_PER_LAYER`` anchors per layer. Anchor sizes are fixed at 1 (the model
    predicts absolute sizes), so only centres matter.

    Returns
    -------
    numpy.ndarray, shape (N, 2), float64
        ``(x, y)`` in [0, 1] of the input image; N = 2254 for the defaults.
    """
    out = []
    k = 0
    while k < len(strides):
        stride = strides[k]
        layers = 1
        while k + layers < len(strides) and strides[k + layers] == stride:
            layers += 1
        side = math.ceil(input_size / stride)
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) / side, (ys.ravel() + 0.5) / side], axis=1)
        out.append(np.repeat(centres, layers * ANCHORS_PER_LAYER, axis=0))
        k += layers
    return np.concatenate(out)


@dataclass(frozen=True)
class Detections:
    """Person detections.

    Attributes
    ----------
    scores : numpy.ndarray, shape (K,)
    boxes : numpy.ndarray, shape (K, 4)
        ``x1, y1, x2, y2``.
    keypoints : numpy.ndarray, shape (K, 4, 2)
        ``(x, y)`` of the four detector keypoints.

    Coordinates are in whatever frame the caller mapped them to (normalised input
    coordinates straight from :func:`decode`).
    """

    scores: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def mapped(self, m: np.ndarray) -> Detections:
        """The detections with every point sent through the affine map ``m`` (2, 3)."""
        kp = self.keypoints @ m[:, :2].T + m[:, 2]
        corners = self.boxes.reshape(-1, 2, 2) @ m[:, :2].T + m[:, 2]
        return Detections(self.scores, corners.reshape(-1, 4), kp)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -_SCORE_CLIP, _SCORE_CLIP)))


def decode(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    *,
    min_score: float = 0.5,
    input_size: int = INPUT_SIZE,
) -> Detections:
    """Turn the detector's raw outputs into detections above ``min_score``.

    Parameters
    ----------
    raw_boxes : numpy.ndarray, shape (N, 12)
        Per anchor: centre dx, dy, width, height, then four keypoint (dx, dy), all in
        input pixels; centres and keypoints are relative to the anchor centre.
    raw_scores : numpy.ndarray, shape (N,) or (N, 1)
        Logits.
    anchors : numpy.ndarray, shape (N, 2)
        From :func:`ssd_anchors`.
    min_score : float
    input_size : int

    Returns
    -------
    Detections
        In normalised input coordinates ([0, 1] over the square input), best first.
    """
    boxes = np.asarray(raw_boxes, np.float64)
    scores = _sigmoid(np.asarray(raw_scores, np.float64).reshape(-1))
    n = anchors.shape[0]
    if boxes.shape != (n, NUM_COORDS) or scores.shape != (n,):
        raise ShapeError(
            f"detector output shapes {boxes.shape} / {scores.shape} do not fit {n} anchors"
        )
    keep = np.flatnonzero(scores >= min_score)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    b = boxes[keep] / input_size
    a = anchors[keep]
    cx, cy = b[:, 0] + a[:, 0], b[:, 1] + a[:, 1]
    w, h = b[:, 2], b[:, 3]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = b[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + a[:, None, :]
    return Detections(scores[keep], xyxy, kp)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(dets: Detections, iou_threshold: float = 0.3) -> Detections:
    """Merge overlapping detections into their score-weighted average.

    The best remaining detection gathers every other one whose box overlaps it by more
    than ``iou_threshold`` (IoU); boxes and keypoints of the group are averaged with
    the scores as weights, and the group keeps the best score.

    Parameters
    ----------
    dets : Detections
        Best first (as :func:`decode` returns them).
    iou_threshold : float

    Returns
    -------
    Detections
        One per group, best first.
    """
    order = np.argsort(-dets.scores, kind="stable")
    remaining = list(order)
    scores, boxes, kps = [], [], []
    while remaining:
        idx = np.array(remaining)
        first = idx[0]
        overlap = _iou(dets.boxes[first], dets.boxes[idx]) > iou_threshold
        overlap[0] = True
        group = idx[overlap]
        w = dets.scores[group]
        w = w / w.sum()
        scores.append(dets.scores[first])
        boxes.append((dets.boxes[group] * w[:, None]).sum(axis=0))
        kps.append((dets.keypoints[group] * w[:, None, None]).sum(axis=0))
        remaining = list(idx[~overlap])
    if not scores:
        return Detections(np.zeros(0), np.zeros((0, 4)), np.zeros((0, NUM_KEYPOINTS, 2)))
    return Detections(np.array(scores), np.stack(boxes), np.stack(kps))


#: Off-centre penalty: a person at the frame's corner counts as half its size.
CENTRALITY_WEIGHT = 0.5
#: A re-detected person within this many body scales of the one tracked last is taken
#: to be the same person.
CONTINUITY_RADIUS = 1.5


def choose_performer(
    keypoints: np.ndarray,
    frame_size: tuple[int, int],
    last: tuple[np.ndarray, float] | None = None,
) -> int | None:
    """Which detected person is the performer to track.

    Parameters
    ----------
    keypoints : numpy.ndarray, shape (K, >=2, 2)
        Per detection, the body centre (keypoint 0) and a point one body scale away
        from it (keypoint 1), in frame pixels (BlazePose's detector layout).
    frame_size : (int, int)
        ``(width, height)`` of the frame.
    last : (numpy.ndarray, float), optional
        Centre ``[2]`` and scale of the person tracked until the track was lost.

    Returns
    -------
    int or None
        Index of the chosen detection, None when there is none.

    Notes
    -----
    Continuity first: after a lost track, the detection nearest the last tracked person
    (within :data:`CONTINUITY_RADIUS` of its scale) is the same performer, even if
    someone larger walks into the frame. Otherwise the performer is the largest person,
    weighed by how central they are (a coach films the athlete, not the passer-by at the
    edge of the frame).
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.shape[0] == 0:
        return None
    centre = kp[:, 0]
    size = np.linalg.norm(kp[:, 1] - kp[:, 0], axis=1)
    if last is not None:
        d = np.linalg.norm(centre - np.asarray(last[0], np.float64), axis=1) / max(last[1], 1e-6)
        k = int(np.argmin(d))
        if d[k] <= CONTINUITY_RADIUS:
            return k
    w, h = frame_size
    half_diag = 0.5 * float(np.hypot(w, h))
    off = np.linalg.norm(centre - np.array([w / 2.0, h / 2.0]), axis=1) / max(half_diag, 1e-6)
    score = size * (1.0 - CENTRALITY_WEIGHT * np.minimum(off, 1.0))
    return int(np.argmax(score))
