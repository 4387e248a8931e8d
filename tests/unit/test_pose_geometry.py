"""Pose geometry without models: ROI transforms, detector decoding, NMS, pose features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avr_gui.core.errors import ShapeError
from avr_gui.core.features.pose import detector as det
from avr_gui.core.features.pose.normalize import (
    HAS_POSE_COLUMN,
    POSE_DIM,
    has_pose_mask,
    mirror_features,
    penn_pose_features,
    pose_features,
)
from avr_gui.core.features.pose.roi import (
    Roi,
    crop,
    crop_to_image,
    image_to_crop,
    letterbox,
    roi_from_keypoints,
)
from avr_gui.core.features.pose.skeleton import (
    COCO17,
    LANDMARK_NAMES,
    MIRROR13,
    MIRROR33,
    PENN13,
    blazepose_to_penn13,
    coco17_to_blazepose,
    skeleton_edges,
)

RNG = np.random.default_rng(7)


# ---- ROI -----------------------------------------------------------------------------


@pytest.mark.parametrize("angle", [0.0, 0.7, -2.1, math.pi / 2, math.pi])
def test_roi_transform_round_trips(angle: float) -> None:
    roi = Roi(310.5, 122.25, 180.0, 180.0, angle)
    pts = RNG.uniform(-50, 400, size=(20, 2))
    back = crop_to_image(image_to_crop(pts, roi, 256), roi, 256)
    np.testing.assert_allclose(back, pts, atol=1e-9)
    # The crop centre is the ROI centre, and the crop spans the ROI's side.
    c = crop_to_image(np.array([[128.0, 128.0]]), roi, 256)[0]
    np.testing.assert_allclose(c, [roi.cx, roi.cy], atol=1e-9)
    a, b = crop_to_image(np.array([[0.0, 128.0], [256.0, 128.0]]), roi, 256)
    assert np.hypot(*(b - a)) == pytest.approx(roi.width)


def test_crop_puts_an_image_point_where_the_transform_says() -> None:
    img = np.zeros((300, 400, 3), np.uint8)
    img[200:204, 300:304] = 255  # a bright dot centred at (302, 202) in continuous coords
    roi = Roi(250.0, 150.0, 160.0, 160.0, 0.9)
    patch = crop(img, roi, 128)
    ys, xs = np.nonzero(patch[:, :, 0] > 100)
    seen = np.array([xs.mean(), ys.mean()])
    # warpAffine samples pixel centres: continuous (302, 202) is pixel (301.5, 201.5).
    expected = image_to_crop(np.array([[301.5, 201.5]]), roi, 128)[0]
    np.testing.assert_allclose(seen, expected, atol=1.0)


def test_roi_from_keypoints_direction_and_size() -> None:
    # Standing: the scale point is straight above the hips -> no rotation.
    r = roi_from_keypoints(np.array([100.0, 200.0]), np.array([100.0, 120.0]), scale=1.25)
    assert r.angle == pytest.approx(0.0)
    assert r.width == r.height == pytest.approx(2 * 80 * 1.25)
    # Lying with the head to the right: the crop's "up" must point to +x.
    r = roi_from_keypoints(np.array([100.0, 200.0]), np.array([180.0, 200.0]))
    up = crop_to_image(np.array([[128.0, 0.0]]), r, 256)[0] - [r.cx, r.cy]
    assert up[0] > 0 and abs(up[1]) < 1e-6


def test_letterbox_maps_square_back_to_image() -> None:
    img = np.zeros((90, 160, 3), np.uint8)
    img[40:50, 120:130] = 255
    sq, m = letterbox(img, 64)
    assert sq.shape == (64, 64, 3)
    ys, xs = np.nonzero(sq[:, :, 0] > 60)
    centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5]) @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(centre, [125.0, 45.0], atol=2.0)
    # Bars top and bottom, none left and right.
    assert sq[:5].max() == 0 and sq[-5:].max() == 0


# ---- detector decoding ---------------------------------------------------------------


def test_anchor_layout() -> None:
    a = det.ssd_anchors()
    assert a.shape == (2254, 2)
    # First cell of the stride-8 grid (two anchors), then the next cell.
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28])
    # The stride-32 grid holds six anchors per cell and ends in the last cell.
    np.testing.assert_allclose(a[1568 + 392], [0.5 / 7, 0.5 / 7])
    np.testing.assert_allclose(a[-6:], np.tile([6.5 / 7, 6.5 / 7], (6, 1)))


def _hand_made_raw(anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((len(anchors), 12))
    scores = np.full((len(anchors), 1), -8.0)
    # Anchor 100: a 56x112 px box 11.2 px right of its anchor, keypoints around it.
    boxes[100] = [11.2, -5.6, 56.0, 112.0, 0, 20, 0, -60, 1, -30, 2, -10]
    scores[100] = 3.0
    return boxes, scores


def test_decode_hand_made_detection() -> None:
    anchors = det.ssd_anchors()
    boxes, scores = _hand_made_raw(anchors)
    d = det.decode(boxes, scores, anchors, min_score=0.5)
    assert len(d) == 1
    ax, ay = anchors[100]
    cx, cy = ax + 11.2 / 224, ay - 5.6 / 224
    np.testing.assert_allclose(d.scores, [1 / (1 + math.exp(-3.0))])
    np.testing.assert_allclose(
        d.boxes[0], [cx - 0.125, cy - 0.25, cx + 0.125, cy + 0.25], atol=1e-12
    )
    np.testing.assert_allclose(d.keypoints[0, 0], [ax, ay + 20 / 224])
    np.testing.assert_allclose(d.keypoints[0, 1], [ax, ay - 60 / 224])
    # Pixel coordinates of a 448 x 448 frame through an affine map.
    px = d.mapped(np.array([[448.0, 0, 0], [0, 448.0, 0]]))
    np.testing.assert_allclose(px.keypoints[0, 2], [448 * (ax + 1 / 224), 448 * (ay - 30 / 224)])


def test_decode_threshold_and_shape_errors() -> None:
    anchors = det.ssd_anchors()
    boxes, scores = _hand_made_raw(anchors)
    assert len(det.decode(boxes, scores, anchors, min_score=0.99)) == 0
    with pytest.raises(ShapeError):
        det.decode(boxes[:-1], scores, anchors)


def test_weighted_nms_merges_overlaps_and_keeps_separate_people() -> None:
    d = det.Detections(
        scores=np.array([0.9, 0.6, 0.8]),
        boxes=np.array([[0.1, 0.1, 0.3, 0.5], [0.12, 0.1, 0.32, 0.5], [0.6, 0.1, 0.8, 0.5]]),
        keypoints=np.stack([np.full((4, 2), 0.2), np.full((4, 2), 0.25), np.full((4, 2), 0.7)]),
    )
    m = det.weighted_nms(d)
    assert len(m) == 2
    np.testing.assert_allclose(m.scores, [0.9, 0.8])
    w = np.array([0.9, 0.6]) / 1.5
    np.testing.assert_allclose(m.boxes[0], w @ d.boxes[:2])
    np.testing.assert_allclose(m.keypoints[0], np.full((4, 2), w @ [0.2, 0.25]))
    np.testing.assert_allclose(m.keypoints[1], d.keypoints[2])
    assert len(det.weighted_nms(det.decode(*_empty()))) == 0


def _empty():
    a = det.ssd_anchors()
    return np.zeros((len(a), 12)), np.full(len(a), -10.0), a


# ---- skeleton ------------------------------------------------------------------------


def test_skeleton_layout() -> None:
    assert len(LANDMARK_NAMES) == 33
    assert all(0 <= a < 33 and 0 <= b < 33 and a != b for a, b in skeleton_edges)
    assert LANDMARK_NAMES[PENN13[5]] == "left_wrist"
    assert [LANDMARK_NAMES[i] for i in COCO17][:3] == ["nose", "left_eye", "right_eye"]
    # Mirroring twice is the identity and swaps named sides.
    np.testing.assert_array_equal(MIRROR33[MIRROR33], np.arange(33))
    np.testing.assert_array_equal(MIRROR13[MIRROR13], np.arange(13))
    assert LANDMARK_NAMES[MIRROR33[LANDMARK_NAMES.index("left_heel")]] == "right_heel"
    lm = RNG.normal(size=(5, 33, 3))
    np.testing.assert_array_equal(blazepose_to_penn13(lm)[:, 1], lm[:, 11])
    kp = RNG.normal(size=(2, 17, 3))
    full = coco17_to_blazepose(kp)
    np.testing.assert_allclose(full[:, 27], kp[:, 15])
    assert full[:, 17:23].max() == 0
    with pytest.raises(ShapeError):
        blazepose_to_penn13(np.zeros((4, 17, 3)))


# ---- pose features -------------------------------------------------------------------


def _standing(t: int = 6) -> np.ndarray:
    """Penn-order joints of a standing person, 100 px torso, wiggling arms."""
    base = np.array(
        [
            [0, -160], [-30, -100], [30, -100], [-40, -50], [40, -50], [-45, 0], [45, 0],
            [-20, 0], [20, 0], [-22, 80], [22, 80], [-24, 160], [24, 160],
        ],
        np.float64,
    )  # fmt: skip
    j = np.zeros((t, 13, 3))
    for k in range(t):
        j[k, :, :2] = base
        j[k, 5, 1] -= 10 * k  # the left wrist rises
    j[:, :, 2] = 1.0
    return j


def test_features_are_translation_and_scale_invariant() -> None:
    j = _standing()
    f = penn_pose_features(j)
    assert f.shape == (6, POSE_DIM) and f.dtype == np.float32
    moved = j.copy()
    moved[:, :, :2] = moved[:, :, :2] * 3.5 + [400, -90]
    np.testing.assert_allclose(penn_pose_features(moved), f, atol=1e-5)
    # Torso length 100 px -> the hip midpoint sits 0.5 torso below the centre.
    assert f[0, 13 + 7] == pytest.approx(0.5)
    assert has_pose_mask(f).all()
    # The rising wrist changes only its own coordinate.
    assert np.ptp(f[:, 13 + 5]) > 0.4
    assert np.ptp(np.delete(f, 13 + 5, axis=1), axis=0).max() < 1e-6


def test_missing_and_partial_person() -> None:
    j = _standing()
    j[2, :, 2] = 0.0  # nobody seen
    j[3, 3:, 2] = 0.0  # only head and shoulders: too few joints
    j[4, 1:3, 2] = 0.0  # shoulders hidden: size from the spread, still a pose
    f = penn_pose_features(j, has_pose=np.array([True, False, True, True, True, True]))
    np.testing.assert_array_equal(has_pose_mask(f), [True, False, False, False, True, True])
    assert (f[1:4] == 0).all()
    assert f[4, HAS_POSE_COLUMN] > 0 and (f[4, [1, 2, 14, 15]] == 0).all()
    # The spread-based size agrees with the torso length within ~25 % on this body.
    ratio = np.abs(f[4, 13 + 11]) / np.abs(f[0, 13 + 11] - f[0, 13 + 7] + f[4, 13 + 7])
    assert 0.5 < ratio < 2.0
    with pytest.raises(ShapeError):
        penn_pose_features(j[:, :12])
    with pytest.raises(ShapeError):
        penn_pose_features(j, has_pose=np.ones(3, bool))


def test_mirroring() -> None:
    j = _standing()
    j[:, 5, 0] -= 30  # make left and right differ
    f = penn_pose_features(j)
    fm = penn_pose_features(j, mirror=True)
    assert not np.allclose(f, fm)
    # Mirroring the image (x -> -x, swap sides) gives the same features as mirror=True.
    flipped = j.copy()
    flipped[:, :, 0] *= -1
    flipped = flipped[:, MIRROR13]
    np.testing.assert_allclose(penn_pose_features(flipped), fm, atol=1e-6)
    np.testing.assert_allclose(mirror_features(f), fm, atol=1e-6)
    np.testing.assert_allclose(mirror_features(mirror_features(f)), f, atol=1e-6)


def test_landmark_and_penn_definitions_agree() -> None:
    j = _standing()
    lm = np.zeros((6, 33, 3))
    lm[:, list(PENN13)] = j
    np.testing.assert_array_equal(pose_features(lm), penn_pose_features(j))
