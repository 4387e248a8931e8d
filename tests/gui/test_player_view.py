"""The player as an editor uses it: click-to-seek, timecode, zoom and pan, top and bottom."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, write_video_av
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.player import SyncedPlayer, TimeMap, ViewMode

SLOW = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0]))


@pytest.fixture
def player(app, qtbot, coded_clips):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(900, 420)
    p.show()
    qtbot.waitExposed(p)
    p.load(str(coded_clips["query"]), str(coded_clips["match"]), SLOW, span=(0.0, 2.0))
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    yield p
    p.close_sources()


def _mouse(
    widget, kind, pos, button, buttons=None, modifiers=QtCore.Qt.KeyboardModifier.NoModifier
):
    """Send a real mouse event (qtbot's mouseMove cannot hold a button down)."""
    pos = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(
        kind,
        pos,
        widget.mapToGlobal(pos),
        button,
        button if buttons is None else buttons,
        modifiers,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def _wheel(widget, pos, notches: float) -> None:
    pos = QtCore.QPointF(pos)
    event = QtGui.QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, round(120 * notches)),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


# ---------------------------------------------------------------------- timeline


def test_a_click_anywhere_on_the_timeline_seeks_there(player, qtbot):
    s = player.scrubber
    assert (s.minimum(), s.maximum()) == (0, 2000)
    player.play()
    # Three quarters along the groove: 1.5 s into the 2 s span (query frame 30 at 20 fps).
    x = s.width() * 0.75
    qtbot.mouseClick(
        s, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(round(x), s.height() // 2)
    )
    assert not player.playing  # a click on the timeline stops to show that moment
    assert player.position == pytest.approx(1.5, abs=0.06)  # a few pixels of a 900 px groove
    assert s.value() == pytest.approx(1500, abs=60)
    q = round(player.position * 20 - 0.5)
    wait_for(qtbot, lambda: player.shown_indices()[0] in (q, q + 1))
    # Near the left end: the start, not a page step toward it.
    qtbot.mouseClick(s, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(2, s.height() // 2))
    assert player.position == pytest.approx(0.0, abs=0.02)
    wait_for(qtbot, lambda: player.shown_indices() == (0, 0))
    assert read_code(qimage_to_bgr(player.canvas.left)) == 0


def test_drag_after_the_click_keeps_seeking(player, qtbot):
    s = player.scrubber
    y = s.height() // 2
    L = QtCore.Qt.MouseButton.LeftButton
    _mouse(s, QtCore.QEvent.Type.MouseButtonPress, QtCore.QPoint(round(s.width() * 0.25), y), L)
    assert player.position == pytest.approx(0.5, abs=0.06)
    _mouse(
        s,
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPoint(round(s.width() * 0.5), y),
        QtCore.Qt.MouseButton.NoButton,
        L,
    )
    _mouse(
        s,
        QtCore.QEvent.Type.MouseButtonRelease,
        QtCore.QPoint(round(s.width() * 0.5), y),
        L,
        QtCore.Qt.MouseButton.NoButton,
    )
    assert player.position == pytest.approx(1.0, abs=0.06)


# ---------------------------------------------------------------------- timecode


@pytest.fixture(scope="module")
def rate_clips(tmp_path_factory):
    """40-frame clips at 25, 29.97 and 30 fps."""
    d = tmp_path_factory.mktemp("rates")
    frames = render_frames(0, np.linspace(0, 1, 40), (96, 72), ClipStyle(seed=3), code=True)
    out = {}
    for name, fps in (("25", 25.0), ("29.97", 30000 / 1001), ("30", 30.0)):
        out[name] = d / f"clip {name}.mp4"
        write_video_av(out[name], frames, fps, codec="mpeg4")
    return out


@pytest.mark.parametrize(
    "rate, frame, query_caption, elapsed",
    [
        ("25", 37, "Query  00:00:01:12  frame 37  25 fps", "00:00:01:12 / 00:00:01:15"),
        ("29.97", 37, "Query  00:00:01:07  frame 37  29.97 fps", "00:00:01:07 / 00:00:01:10"),
        ("30", 31, "Query  00:00:01:01  frame 31  30 fps", "00:00:01:01 / 00:00:01:10"),
    ],
)
def test_timecode_at_each_clips_own_rate(
    app, qtbot, rate_clips, rate, frame, query_caption, elapsed
):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(700, 360)
    p.show()
    # The 25 fps clip beside the one under test: each side counts at its own rate.
    same = TimeMap(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    p.load(str(rate_clips[rate]), str(rate_clips["25"]), same, span=None)
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    t = float(p.query.times[frame])
    p.seek(t)
    wait_for(qtbot, lambda: p.shown_indices()[0] == frame)
    # The match side decodes on its own; under load it may still show its previous
    # frame while its caption already names the new one: wait until the two agree.
    wait_for(qtbot, lambda: f"frame {p.shown_indices()[1]}  " in p.canvas.captions[1])
    assert read_code(qimage_to_bgr(p.canvas.left)) == frame
    assert p.canvas.captions[0] == query_caption
    m = p.shown_indices()[1]
    assert (
        p.canvas.captions[1].startswith("Match  00:00:01:")
        and f"frame {m}  25 fps" in p.canvas.captions[1]
    )
    assert p.canvas.captions[1] == f"Match  00:00:{m // 25:02d}:{m % 25:02d}  frame {m}  25 fps"
    assert p.time_label.text() == elapsed
    p.close_sources()


# ---------------------------------------------------------------------- zoom and pan


def _picture_point(rect: QtCore.QRectF, pos: QtCore.QPointF) -> tuple[float, float]:
    return (pos.x() - rect.x()) / rect.width(), (pos.y() - rect.y()) / rect.height()


def test_wheel_zooms_about_the_cursor_drag_pans_double_click_fits(player, qtbot):
    c = player.canvas
    fit_q, fit_m = c.view_rect(0), c.view_rect(1)
    assert fit_q.right() < fit_m.left()  # side by side
    pos = QtCore.QPointF(fit_q.x() + 0.3 * fit_q.width(), fit_q.y() + 0.6 * fit_q.height())
    before = _picture_point(fit_q, pos)
    _wheel(c, pos, 2)  # two notches in
    assert c.zoom == pytest.approx(1.25**2)
    zq = c.view_rect(0)
    assert zq.width() == pytest.approx(fit_q.width() * 1.5625)
    # The picture point under the cursor stays under it ...
    assert _picture_point(zq, pos) == pytest.approx(before, abs=1e-6)
    # ... and the match is zoomed and framed alike (same spot of the other performance).
    zm = c.view_rect(1)
    assert zm.width() / fit_m.width() == pytest.approx(c.zoom)
    assert (zm.x() - fit_m.x()) / fit_m.width() == pytest.approx(
        (zq.x() - fit_q.x()) / fit_q.width()
    )
    # Drag pans (left button while zoomed in).
    L, N = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    T = QtCore.QEvent.Type
    start = QtCore.QPointF(pos)
    _mouse(c, T.MouseButtonPress, start, L)
    _mouse(c, T.MouseMove, start + QtCore.QPointF(20, 10), N, L)
    _mouse(c, T.MouseButtonRelease, start + QtCore.QPointF(20, 10), L, N)
    moved = c.view_rect(0)
    assert moved.x() == pytest.approx(zq.x() + 20) and moved.y() == pytest.approx(zq.y() + 10)
    # Panning never opens an empty band: dragged far right, the left edge stays put.
    _mouse(c, T.MouseButtonPress, start, L)
    _mouse(c, T.MouseMove, start + QtCore.QPointF(2000, 0), N, L)
    _mouse(c, T.MouseButtonRelease, start + QtCore.QPointF(2000, 0), L, N)
    assert c.view_rect(0).x() == pytest.approx(fit_q.x())
    # Zooming out past the fit stops at the fit.
    _wheel(c, pos, -10)
    assert c.zoom == 1.0 and c.view_rect(0) == fit_q
    _wheel(c, pos, 3)
    assert c.zoom > 1.9
    _mouse(c, T.MouseButtonDblClick, pos, L)
    assert c.zoom == 1.0 and c.view_rect(0) == fit_q and c.view_rect(1) == fit_m


def test_zoomed_in_frames_are_painted_magnified(player, qtbot):
    c = player.canvas
    player.seek(1.0)
    wait_for(qtbot, lambda: player.shown_indices() == (20, 30))
    fit = c.view_rect(0)
    centre = fit.center()
    before = qimage_to_bgr(c.grab().toImage())
    _wheel(c, centre, 4)  # about 2.4x
    qtbot.wait(250)  # past the zoom's settle time: the frame is decoded for the new size
    wait_for(qtbot, lambda: player.shown_indices() == (20, 30))
    after = qimage_to_bgr(c.grab().toImage())
    # The pixel at the centre stays; one a quarter out now shows what was nearer the centre.
    y, x = round(centre.y()), round(centre.x())
    assert np.abs(after[y, x].astype(int) - before[y, x].astype(int)).max() < 40
    dx = round(fit.width() * 0.3)
    z = c.zoom
    src = round(centre.x() + dx / z)
    assert np.abs(after[y, x + dx].astype(int) - before[y, src].astype(int)).max() < 60
    assert not np.array_equal(after, before)


def test_wipe_drag_moves_the_wipe_unless_zoomed_off_the_line(player, qtbot):
    c = player.canvas
    player.set_mode(ViewMode.WIPE)
    L, N = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    T = QtCore.QEvent.Type
    video = c.areas()[0][0]
    _mouse(c, T.MouseButtonPress, QtCore.QPointF(video.width() * 0.2, 50), L)
    _mouse(c, T.MouseButtonRelease, QtCore.QPointF(video.width() * 0.2, 50), L, N)
    assert c.wipe == pytest.approx(0.2, abs=0.01)
    _wheel(c, QtCore.QPointF(video.width() * 0.6, 100), 3)
    # Zoomed in, a drag away from the line pans; on the line it moves the line.
    _mouse(c, T.MouseButtonPress, QtCore.QPointF(video.width() * 0.6, 100), L)
    _mouse(c, T.MouseMove, QtCore.QPointF(video.width() * 0.6 + 30, 100), N, L)
    _mouse(c, T.MouseButtonRelease, QtCore.QPointF(video.width() * 0.6 + 30, 100), L, N)
    assert c.wipe == pytest.approx(0.2, abs=0.01)
    line = video.width() * 0.2
    _mouse(c, T.MouseButtonPress, QtCore.QPointF(line + 3, 100), L)
    _mouse(c, T.MouseMove, QtCore.QPointF(video.width() * 0.7, 100), N, L)
    _mouse(c, T.MouseButtonRelease, QtCore.QPointF(video.width() * 0.7, 100), L, N)
    assert c.wipe == pytest.approx(0.7, abs=0.01)


# ---------------------------------------------------------------------- top and bottom


def test_top_and_bottom_stacks_the_two_videos(player, qtbot):
    player.seek(1.0)
    wait_for(qtbot, lambda: player.shown_indices() == (20, 30))
    player.set_mode(ViewMode.TOP_BOTTOM)
    assert player.mode_box.currentData() == ViewMode.TOP_BOTTOM
    c = player.canvas
    wait_for(qtbot, lambda: player.shown_indices() == (20, 30))
    top, bottom = c.view_rect(0), c.view_rect(1)
    assert top.bottom() < bottom.top()  # stacked: the query above the match
    assert top.center().x() == pytest.approx(c.width() / 2, abs=1)
    assert bottom.center().x() == pytest.approx(c.width() / 2, abs=1)
    # Each video gets the full width and half the height (less its caption).
    w, h = c.side_size(two=True)
    dpr = c.devicePixelRatioF()
    assert w == int(c.width() * dpr) and h < c.height() * dpr / 2
    # Both pictures are painted where they are said to be: the frames' own codes read
    # back from the canvas (the query's frame 20 above, the match's frame 30 below).
    img = qimage_to_bgr(c.grab().toImage())
    codes = []
    for rect in (top, bottom):
        r = rect.toAlignedRect()
        crop = img[r.top() : r.bottom() + 1, r.left() : r.right() + 1]
        codes.append(read_code(cv2.resize(crop, (160, 120), interpolation=cv2.INTER_AREA)))
    assert codes == [20, 30]
    assert "frame 20" in c.captions[0] and "frame 30" in c.captions[1]


def test_zoom_keys(player, qtbot):
    c = player.canvas
    player.setFocus()
    fit = c.view_rect(0)
    qtbot.keyClick(player, QtCore.Qt.Key.Key_Plus)
    qtbot.keyClick(player, QtCore.Qt.Key.Key_Plus)
    assert c.zoom == pytest.approx(1.5625)
    # About the middle of the picture: its centre stays where it was.
    assert c.view_rect(0).center().x() == pytest.approx(fit.center().x(), abs=1)
    qtbot.keyClick(player, QtCore.Qt.Key.Key_Minus)
    assert c.zoom == pytest.approx(1.25)
    qtbot.keyClick(player, QtCore.Qt.Key.Key_0)
    assert c.zoom == 1.0 and c.view_rect(0) == fit


def test_captions_sit_under_their_pictures(player, qtbot):
    """Letterboxed (4:3 clips in wide halves), a caption follows its picture, not the edge."""
    c = player.canvas
    player.resize(900, 700)
    wait_for(qtbot, lambda: c.height() > 600)
    qtbot.wait(50)
    fit = c.view_rect(0)
    assert c.height() - fit.bottom() > 60  # room below the picture
    img = qimage_to_bgr(c.grab().toImage()).max(axis=2)
    x0, x1 = round(fit.left()), round(fit.right())
    under = img[round(fit.bottom()) + 3 : round(fit.bottom()) + 20, x0:x1]
    edge = img[c.height() - 18 : c.height() - 2, x0:x1]
    assert (under > 150).sum() > 50  # the caption's text
    assert (edge > 150).sum() == 0
