"""The alignment view with a real alignment of two generated clips."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from avr_gui.core.align import AlignmentOptions, align
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp
from avr_gui.core.features import thumbnail_features
from avr_gui.gui.panels.alignment_view import AlignmentView


@pytest.fixture
def view(app, qtbot):
    q = render_frames(0, speed_warp(30, (1.0,)), (96, 72), ClipStyle(seed=1))
    c = render_frames(0, speed_warp(42, (0.5, 2.0)), (96, 72), ClipStyle((90, 240, 120), seed=2))
    al = align(thumbnail_features(q), thumbnail_features(c), AlignmentOptions())
    v = AlignmentView()
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    qtbot.waitExposed(v)
    v.set_alignment(al.cost, al.path, np.arange(30) / 10 + 5.0, np.arange(42) / 10, "summary")
    qtbot.wait(50)
    v.alignment = al
    return v


def _view_pos(v: AlignmentView, i: int, j: int) -> QtCore.QPoint:
    return v.plot.mapFromScene(v.scene_pos_of(i, j))


def test_image_is_the_cost_matrix_row_major_with_the_path(view):
    al = view.alignment
    np.testing.assert_array_equal(view.image.image, al.cost)
    assert view.image.image.shape == (30, 42)  # rows = query frames
    xs, ys = view.path_curve.getData()
    np.testing.assert_allclose(xs, al.path[:, 1] + 0.5)
    np.testing.assert_allclose(ys, al.path[:, 0] + 0.5)
    lo, hi = view.colorbar.levels()
    assert lo == pytest.approx(float(al.cost.min())) and hi == pytest.approx(float(al.cost.max()))
    assert view.cell_at(view.scene_pos_of(7, 11)) == (7, 11)


def test_click_emits_both_times_and_hover_names_them(view, qtbot):
    with qtbot.waitSignal(view.cell_clicked, timeout=3000) as sig:
        qtbot.mouseClick(
            view.plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=_view_pos(view, 12, 20)
        )
    assert sig.args[:2] == [12, 20]
    assert sig.args[2] == pytest.approx(6.2) and sig.args[3] == pytest.approx(2.0)
    qtbot.mouseMove(view.plot.viewport(), _view_pos(view, 3, 9))
    qtbot.waitUntil(lambda: "Query  5.300 s" in view.hover_label.text(), timeout=3000)
    # Before the players say the videos' frame times: seconds and the cost only.
    assert view.hover_label.text().splitlines()[1].startswith("Match  0.900 s  ·  cost ")


def test_hover_names_both_clips_video_frames_and_timecodes(view, qtbot):
    # The query video at 25 fps, the match at 29.97 fps (what the players report).
    view.set_video_times(np.arange(400) / 25, np.arange(300) * 1001 / 30000)
    qtbot.mouseMove(view.plot.viewport(), _view_pos(view, 4, 10))
    qtbot.waitUntil(lambda: "Query  5.400 s" in view.hover_label.text(), timeout=3000)
    query, match = view.hover_label.text().splitlines()
    # 5.4 s is frame 135 of the query (00:00:05:10 at 25 fps) ...
    assert query == "Query  5.400 s  ·  frame 135  ·  00:00:05:10"
    # ... 1.0 s is still frame 29 of the match (0.968 s; frame 30 starts at 1.001 s).
    cost = view.alignment.cost[4, 10]
    assert match == f"Match  1.000 s  ·  frame 29  ·  00:00:00:29  ·  cost {cost:.3f}"
    # A new alignment forgets the old pair's frame times until the players report again.
    al = view.alignment
    view.set_alignment(al.cost, al.path, np.arange(30) / 10, np.arange(42) / 10)
    assert view.video_times == (None, None)


def test_axes_read_seconds_of_each_clip_at_round_values(view):
    """The query starts at 5 s (a trimmed query), both are sampled at 10 fps."""
    assert view.plot.getPlotItem().getAxis("left").labelText == "query time (s)"
    assert view.plot.getPlotItem().getAxis("bottom").labelText == "match time (s)"
    for axis, first, n in ((view.query_axis, 5.0, 30), (view.match_axis, 0.0, 42)):
        levels = axis.tickValues(0, n, 400)
        spacing, positions = levels[0]
        seconds = axis.to_seconds(np.asarray(positions))
        # Major ticks at whole multiples of a round step in seconds (0.5 s or 1 s here).
        step = spacing * 0.1
        assert min(abs(step - s) for s in (0.5, 1.0, 2.0)) < 1e-9
        np.testing.assert_allclose(seconds / step, np.round(seconds / step), atol=1e-6)
        assert seconds.min() >= first - 0.05 - 1e-9 and seconds.max() <= first + n / 10
        labels = axis.tickStrings(positions, 1.0, spacing)
        assert labels == [f"{s:.{1 if step < 1 else 0}f}" for s in seconds]
        # A tick sits on the cell its seconds fall in: sample k is at k + 0.5.
        np.testing.assert_allclose(axis.to_pos(np.array([first + 1.0])), [10.5])
    assert view.query_axis.tickStrings([10.5], 1.0, 10) == ["6"]


def test_ctrl_click_pins_and_recomputes_through_the_pin(view, qtbot):
    off = (5, 30)  # far off the diagonal-ish optimal path
    assert not any((view.alignment.path == off).all(axis=1))
    with qtbot.waitSignal(view.path_changed, timeout=3000) as sig:
        qtbot.mouseClick(
            view.plot.viewport(),
            QtCore.Qt.MouseButton.LeftButton,
            QtCore.Qt.KeyboardModifier.ControlModifier,
            _view_pos(view, *off),
        )
    path = sig.args[0]
    assert any((path == off).all(axis=1))
    assert view.anchored.dtw_cost > view.alignment.dtw_cost  # forced off the optimum
    assert "pinned" in view.summary.text() and view.clear_button.isEnabled()
    xs, ys = view.anchor_points.getData()
    assert (xs[0], ys[0]) == (off[1] + 0.5, off[0] + 0.5)
    # A crossing pin is refused with a message, the path stays.
    assert not view.pin(20, 10)
    assert "Pin refused" in view.summary.text()
    assert any((view.path == off).all(axis=1))
    with qtbot.waitSignal(view.path_changed):
        view.clear_button.click()
    np.testing.assert_array_equal(view.path, view.alignment.path)


def test_random_paths_on_request(view):
    assert view.random_curves == []
    view.random_box.setChecked(True)
    assert len(view.random_curves) == 5
    for curve in view.random_curves:
        xs, ys = curve.getData()
        assert (xs[0], ys[0]) == (0.5, 0.5) and (xs[-1], ys[-1]) == (41.5, 29.5)
    view.random_box.setChecked(False)
    assert view.random_curves == []


def test_cursor_follows_the_players(view):
    view.set_cursor(5.0 + 1.2, 2.05)
    xs, ys = view.cursor.getData()
    assert (xs[0], ys[0]) == pytest.approx((20.5 + 0.5, 12.5))


def test_an_empty_panel_says_what_it_will_show(app, qtbot, view):
    fresh = AlignmentView()
    qtbot.addWidget(fresh)
    fresh.resize(600, 500)
    fresh.show()
    qtbot.waitExposed(fresh)
    assert fresh.placeholder.isVisible() and not fresh.plot.isVisible()
    assert "time warp" in fresh.placeholder.text()
    # A match selected: the matrix; cleared again: the sentence.
    assert view.plot.isVisible() and not view.placeholder.isVisible()
    view.clear()
    assert view.placeholder.isVisible() and not view.plot.isVisible()
