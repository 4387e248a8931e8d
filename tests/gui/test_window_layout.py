"""The main window's default layout at common screen sizes, its memory, full screen."""

from __future__ import annotations

import numpy as np
import pytest
from guiutil import settle, wait_for
from PySide6 import QtCore, QtWidgets

from avr_gui.gui import settings as S
from avr_gui.gui.main_window import MainWindow
from avr_gui.gui.player import ViewMode

SUMMARY = (
    "#1 action0_v03.mp4 — alignable 98%\nDRAQ 0.546 · DTW cost 0.196/step\npose similarity 0.937"
)


def _window(qtbot, tmp_path, settings, size: tuple[int, int] | None = None) -> MainWindow:
    win = MainWindow(index_dir=str(tmp_path / "index"), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)  # before the event loop runs, as the default size is set
    win.show()
    qtbot.waitExposed(win)
    wait_for(qtbot, lambda: win.library is not None)
    settle(qtbot, 0.2)
    return win


def _show_alignment(win: MainWindow, qtbot) -> None:
    rng = np.random.default_rng(0)
    cost = rng.random((53, 60)).astype(np.float32)
    path = np.stack([np.linspace(0, 52, 60).round(), np.arange(60)], axis=1).astype(np.int64)
    win.alignment.set_alignment(cost, path, np.arange(53) / 10, np.arange(60) / 10, SUMMARY)
    # As after a query: the centre shows the player, not the empty library's first-run
    # panel (a hidden player keeps a stale size).
    win.center.setCurrentWidget(win.workspace)
    settle(qtbot, 0.2)


def _matrix_size(win: MainWindow) -> tuple[float, float]:
    """On-screen size of the matrix's plot area (the image fills it)."""
    rect = win.alignment.plot.getPlotItem().getViewBox().sceneBoundingRect()
    return rect.width(), rect.height()


def _fully_shown(label: QtWidgets.QLabel) -> bool:
    """The label is visible, inside its panel and tall enough for its wrapped text."""
    panel = label.parentWidget()
    inside = panel.rect().contains(label.geometry())
    need = label.heightForWidth(label.width()) if label.wordWrap() else label.sizeHint().height()
    return label.isVisible() and inside and label.height() >= need


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_default_layout_shows_a_readable_matrix(app, qtbot, tmp_path, settings, size):
    win = _window(qtbot, tmp_path, settings, size)
    assert win.size().toTuple() == size  # the window fits: its minimum is smaller
    _show_alignment(win, qtbot)
    w, h = _matrix_size(win)
    assert min(w, h) >= 300, (w, h)
    # The alignment dock runs the full height, beside the matches (not above them).
    assert win.alignment_dock.geometry().bottom() > win.candidates_dock.geometry().bottom() - 2
    for label in (win.alignment.summary, win.alignment.hover_label, win.alignment.hint):
        assert _fully_shown(label), label.text()
    # The videos keep a usable size, and the blend slider fits beside the mode box.
    # (once the layout has settled: the centre can take a beat to get its width)
    canvas = win.player.canvas
    wait_for(qtbot, lambda: canvas.height() >= 250 and canvas.width() >= 640, timeout=3.0)
    win.player.set_mode(ViewMode.BLEND)
    settle(qtbot, 0.2)
    assert min(_matrix_size(win)) >= 300
    win.close()


def test_dock_sizes_are_remembered(app, qtbot, tmp_path, settings):
    win = _window(qtbot, tmp_path, settings, (1600, 1000))
    H, V = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
    win.resizeDocks([win.alignment_dock], [610], H)
    win.resizeDocks([win.candidates_dock], [330], V)
    settle(qtbot, 0.2)
    chosen = win.alignment_dock.width(), win.candidates_dock.height()
    assert chosen[0] == pytest.approx(610, abs=4) and chosen[1] == pytest.approx(330, abs=4)
    win.close()
    again = _window(qtbot, tmp_path, settings, (1600, 1000))
    assert (again.alignment_dock.width(), again.candidates_dock.height()) == chosen
    again.close()


def test_a_layout_stored_by_an_older_version_gives_the_default(app, qtbot, tmp_path, settings):
    win = _window(qtbot, tmp_path, settings, (1600, 1000))
    H = QtCore.Qt.Orientation.Horizontal
    win.resizeDocks([win.alignment_dock], [300], H)  # what the old default gave
    settle(qtbot, 0.2)
    settings.setValue("window/geometry", win.saveGeometry())
    settings.setValue("window/state", win.saveState(S.LAYOUT_VERSION - 1))
    settings.sync()
    win.runner.shutdown()
    again = _window(qtbot, tmp_path / "2", settings, (1600, 1000))
    assert again.alignment_dock.width() == pytest.approx(480, abs=4)  # 30 % of 1600
    again.close()
    win.close()


def test_full_screen_shows_the_player_alone_and_esc_leaves(app, qtbot, tmp_path, settings):
    win = _window(qtbot, tmp_path, settings, (1600, 1000))
    act = win.fullscreen_action
    assert act.shortcut().toString() == "F11" and act in win.actions()
    assert act in win.menuBar().actions()[1].menu().actions()  # View → Full screen
    before = win.alignment_dock.width()
    act.trigger()
    assert win.isFullScreen() and act.isChecked()
    docks = (win.library_dock, win.candidates_dock, win.alignment_dock)
    assert not any(d.isVisible() for d in docks)
    assert not win.menuBar().isVisible() and win.query_panel.isHidden()
    settle(qtbot, 0.1)
    # The centre (the player once a query is open) has the whole window.
    assert win.center.isVisible() and win.centralWidget().width() == win.width()
    # Esc leaves (the key, sent to the focused player).
    win.activateWindow()
    win.player.setFocus()
    qtbot.keyClick(win.player, QtCore.Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not win.isFullScreen(), 5)
    assert not act.isChecked()
    settle(qtbot, 0.2)
    assert all(d.isVisible() for d in docks) and win.menuBar().isVisible()
    assert not win.query_panel.isHidden()
    assert win.alignment_dock.width() == pytest.approx(before, abs=4)
    # Closing in full screen stores the window's own layout, not the full-screen one.
    act.trigger()
    assert win.isFullScreen()
    win.close()
    again = _window(qtbot, tmp_path, settings, (1600, 1000))
    assert again.alignment_dock.isVisible() and not again.isFullScreen()
    again.close()


def test_view_menu_has_top_and_bottom(app, qtbot, tmp_path, settings):
    win = _window(qtbot, tmp_path, settings)
    view = win.menuBar().actions()[1].menu()
    act = next(a for a in view.actions() if a.text() == "Top and bottom")
    act.trigger()
    assert win.player.canvas.mode == ViewMode.TOP_BOTTOM
    assert win.player.mode_box.currentText() == "Top and bottom"
    win.close()
