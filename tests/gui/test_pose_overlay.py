"""Skeleton overlays on the synced player: drawn where the landmarks project, in every mode.

The tracks are constructed here (a stick figure moving at a known speed), the videos are
real decoded clips, and the checks read the pixels the player widget actually paints.
"""

from __future__ import annotations

import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore, QtGui

from avr_gui.core.features.pose import PoseTrack
from avr_gui.core.features.pose.skeleton import skeleton_edges
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.player import SyncedPlayer, TimeMap, ViewMode
from avr_gui.gui.skeleton_overlay import (
    MATCH_COLOUR,
    QUERY_COLOUR,
    landmarks_for_frame,
    paint_skeleton,
    project,
)

# Body joints of the stick figure: offsets (source pixels) from its centre.
BODY = {
    11: (-20, -20), 12: (20, -20), 13: (-30, 0), 14: (30, 0), 15: (-35, 20), 16: (35, 20),
    23: (-12, 15), 24: (12, 15), 25: (-14, 35), 26: (14, 35), 27: (-16, 55), 28: (16, 55),
}  # fmt: skip
SLOW = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0]))  # match time = 1.5 x query time
CANVAS_BG = np.array([14, 12, 12])  # BGR of the canvas around the frames


def figure_track(cx0: float, vx: float, cy: float, scale: float, size, n: int = 30) -> PoseTrack:
    """A figure centred at (cx0 + vx t, cy), sampled at 10 fps, coordinates x ``scale``."""
    t = np.arange(n) / 10.0
    lm = np.zeros((n, 33, 3), np.float32)
    for k, (dx, dy) in BODY.items():
        lm[:, k, 0] = (cx0 + vx * t + dx) * scale
        lm[:, k, 1] = (cy + dy) * scale
        lm[:, k, 2] = 1.0
    has = np.ones(n, bool)
    has[25:] = False  # the person leaves at 2.5 s
    lm[25:] = 0.0
    return PoseTrack(lm, has, t, np.arange(n, dtype=np.int64) * 2, size, "test", "")


def bgr(colour: QtGui.QColor) -> np.ndarray:
    return np.array([colour.blue(), colour.green(), colour.red()])


def near_colour(img: np.ndarray, colour: QtGui.QColor, tol: float = 30.0) -> np.ndarray:
    return np.linalg.norm(img.astype(float) - bgr(colour), axis=2) < tol


def grab(p: SyncedPlayer) -> np.ndarray:
    return qimage_to_bgr(p.canvas.grab().toImage())


def frame_box(img: np.ndarray, x0: int, x1: int, bottom: int) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of the painted frame within columns [x0, x1)."""
    part = img[:bottom, x0:x1].astype(int)
    mask = np.abs(part - CANVAS_BG).sum(axis=2) > 6
    ys, xs = np.nonzero(mask)
    return x0 + xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def expected_points(track: PoseTrack, t: float, box) -> np.ndarray:
    """Where the body joints of ``track`` at ``t`` must land in a frame painted at ``box``."""
    lm = landmarks_for_frame(track, t)
    assert lm is not None
    x, y, w, h = box
    fw, fh = track.frame_size
    return np.array([[x + lm[k, 0] * w / fw, y + lm[k, 1] * h / fh] for k in BODY])


QUERY_TRACK = figure_track(50, 30, 45, 1.0, (160, 120))  # query clips are 160 x 120
# The match's landmarks in pixels of a 320 x 240 source: the overlay must scale them.
MATCH_TRACK = figure_track(60, 10, 50, 2.0, (320, 240))


@pytest.fixture
def player(app, qtbot, coded_clips):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(900, 420)
    p.show()
    p.load(str(coded_clips["query"]), str(coded_clips["match"]), SLOW, span=(0.0, 2.0))
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    yield p
    p.close_sources()


def test_landmarks_for_a_shown_frame():
    lm = landmarks_for_frame(QUERY_TRACK, 1.05)  # halfway between samples 10 and 11
    assert lm is not None
    assert lm[11, 0] == pytest.approx(50 + 30 * 1.05 - 20, abs=1e-3)
    assert lm[11, 2] == 1.0 and lm[0, 2] == 0.0  # the face was never seen
    assert landmarks_for_frame(QUERY_TRACK, 2.8) is None  # the person has left
    assert landmarks_for_frame(QUERY_TRACK, 9.0) is None  # past the track


def test_project_maps_source_pixels_to_the_drawn_rectangle():
    lm = np.zeros((33, 3))
    lm[0] = (0, 0, 1)
    lm[1] = (320, 240, 1)
    lm[2] = (80, 60, 1)
    xy = project(lm, (320, 240), QtCore.QRectF(10, 20, 160, 120))
    assert xy[0] == pytest.approx((10, 20))
    assert xy[1] == pytest.approx((170, 140))
    assert xy[2] == pytest.approx((50, 50))


def test_paint_skeleton_draws_only_seen_bones(app):
    image = QtGui.QImage(200, 150, QtGui.QImage.Format.Format_RGB888)
    image.fill(QtGui.QColor(0, 0, 0))
    lm = landmarks_for_frame(QUERY_TRACK, 1.0)
    painter = QtGui.QPainter(image)
    drawn = paint_skeleton(painter, lm, (160, 120), QtCore.QRectF(0, 0, 200, 150), QUERY_COLOUR)
    painter.end()
    seen = set(BODY)
    assert drawn == sum(a in seen and b in seen for a, b in skeleton_edges)
    assert near_colour(qimage_to_bgr(image), QUERY_COLOUR).sum() > 100
    assert (
        paint_skeleton(QtGui.QPainter(), np.zeros((33, 3)), (1, 1), QtCore.QRectF(), QUERY_COLOUR)
        == 0
    )


def test_skeleton_toggle_draws_on_the_landmarks_side_by_side(player, qtbot):
    p = player
    assert not p.skeleton_box.isEnabled()  # no tracks yet: nothing to draw
    qtbot.keyClick(p, QtCore.Qt.Key.Key_S)
    assert not p.skeleton_box.isChecked()
    p.set_poses(QUERY_TRACK, MATCH_TRACK)
    assert p.skeleton_box.isEnabled()
    p.seek(1.0)  # query frame 20 (t = 1.0 s), match frame 30 (t = 1.5 s)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 30), 10)
    off = grab(p)
    assert near_colour(off, QUERY_COLOUR).sum() < 5
    assert near_colour(off, MATCH_COLOUR).sum() < 5
    qtbot.keyClick(p, QtCore.Qt.Key.Key_S)
    assert p.skeleton_box.isChecked() and p.canvas.show_skeleton
    on = grab(p)
    h, w = on.shape[:2]
    bottom = h - 22  # the caption strip
    for track, t, colour, cols in (
        (QUERY_TRACK, 1.0, QUERY_COLOUR, (0, w // 2)),
        (MATCH_TRACK, 1.5, MATCH_COLOUR, (w // 2, w)),
    ):
        box = frame_box(off, *cols, bottom)
        points = expected_points(track, t, box)
        hits = near_colour(on, colour)
        for x, y in points:  # every joint has its colour within 2 px of its projection
            xi, yi = round(x), round(y)
            assert hits[yi - 2 : yi + 3, xi - 2 : xi + 3].any(), (x, y)
        # ... and nothing of that colour lies far from the figure's bones.
        ys, xs = np.nonzero(hits[:, cols[0] : cols[1]])
        xs = xs + cols[0]
        assert len(xs) > 50
        d = _distance_to_bones(np.stack([xs, ys], 1), points)
        assert d.max() < 8
    # Toggled off again: the skeleton colours are gone.
    p.skeleton_box.setChecked(False)
    again = grab(p)
    assert near_colour(again, QUERY_COLOUR).sum() < 5 and near_colour(again, MATCH_COLOUR).sum() < 5


def _distance_to_bones(px: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Distance of each pixel to the nearest bone between the given body joints."""
    index = {k: i for i, k in enumerate(BODY)}
    best = np.full(len(px), np.inf)
    for a, b in skeleton_edges:
        if a in index and b in index:
            pa, pb = joints[index[a]], joints[index[b]]
            d = pb - pa
            u = np.clip(((px - pa) @ d) / max(d @ d, 1e-9), 0, 1)
            best = np.minimum(best, np.linalg.norm(px - (pa + u[:, None] * d), axis=1))
    return best


@pytest.mark.parametrize("mode", [ViewMode.BLEND, ViewMode.DIFFERENCE])
def test_skeletons_in_overlay_modes(player, qtbot, mode):
    p = player
    p.set_poses(QUERY_TRACK, MATCH_TRACK)
    p.skeleton_box.setChecked(True)
    p.set_mode(mode)
    p.seek(1.0)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 30), 10)
    img = grab(p)
    # Both frames fill the same rectangle: both skeletons lie on it, each where it projects.
    box = frame_box(img, 0, img.shape[1], img.shape[0] - 22)
    for track, t, colour in ((QUERY_TRACK, 1.0, QUERY_COLOUR), (MATCH_TRACK, 1.5, MATCH_COLOUR)):
        ys, xs = np.nonzero(near_colour(img, colour))
        assert len(xs) > 50
        d = _distance_to_bones(np.stack([xs, ys], 1), expected_points(track, t, box))
        assert np.median(d) < 3


def test_wipe_shows_each_skeleton_on_its_own_side(player, qtbot):
    p = player
    p.set_poses(QUERY_TRACK, MATCH_TRACK)
    p.skeleton_box.setChecked(True)
    p.set_mode(ViewMode.WIPE)
    p.seek(1.0)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 30), 10)
    img = grab(p)
    handle = p.canvas.wipe * p.canvas.width()
    _, qx = np.nonzero(near_colour(img, QUERY_COLOUR))
    _, mx = np.nonzero(near_colour(img, MATCH_COLOUR))
    assert len(qx) > 30 and len(mx) > 30
    assert qx.max() <= handle + 1  # the query's skeleton stops at the handle
    assert mx.min() >= handle - 1  # the match's starts there


def test_a_frame_without_a_person_gets_no_skeleton(player, qtbot):
    p = player
    late = figure_track(50, 30, 45, 1.0, (160, 120))
    p.set_poses(late, None)
    p.skeleton_box.setChecked(True)
    p.seek(1.95)  # query frame 39 at 1.95 s: still tracked
    wait_for(qtbot, lambda: p.shown_indices()[0] == 39, 10)
    assert near_colour(grab(p), QUERY_COLOUR).sum() > 50
    assert p.canvas.poses[1] is None  # the match has no track
    gone = PoseTrack(
        late.landmarks * 0, np.zeros(len(late.has_pose), bool), late.timestamps,
        late.frame_indices, late.frame_size,
    )  # fmt: skip
    p.set_poses(gone, None)
    assert near_colour(grab(p), QUERY_COLOUR).sum() < 5


def test_landmarks_beyond_the_frame_are_not_drawn_on_the_letterbox(player, qtbot):
    p = player
    # Centre at y = 95 in a 160 x 120 source: knees at 130 and ankles at 150, below the
    # picture (BlazePose places such guesses and may rate them visible).
    low = figure_track(50, 30, 95, 1.0, (160, 120))
    p.resize(900, 900)  # tall: the 4:3 frames are letterboxed above and below
    p.skeleton_box.setChecked(False)
    p.seek(1.0)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 30), 10)
    off = grab(p)
    h, w = off.shape[:2]
    _x, y, _fw, fh = frame_box(off, 0, w // 2, h - 22)
    p.set_poses(low, None)
    p.skeleton_box.setChecked(True)
    on = grab(p)
    hits = near_colour(on, QUERY_COLOUR)[:, : w // 2]
    assert hits[y : y + fh].sum() > 30  # the upper body is drawn on the picture
    assert y > 20 and h - 22 - (y + fh) > 20  # letterboxed
    assert hits[y + fh + 1 :].sum() == 0  # nothing below it
