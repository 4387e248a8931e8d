"""Small things seen on the screenshots: check boxes, the grid window on a laptop screen."""

from __future__ import annotations

import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.grid import GridWindow, TileSpec
from avr_gui.gui.grid.window import DEFAULT_SIZE, default_size
from avr_gui.gui.player import TimeMap

SAME = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 2.0]))


def _luma(c: QtGui.QColor) -> float:
    return 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()


def _indicator(box: QtWidgets.QCheckBox) -> QtGui.QImage:
    """The check box's indicator, as drawn with the app's theme."""
    opt = QtWidgets.QStyleOptionButton()
    box.initStyleOption(opt)
    rect = box.style().subElementRect(QtWidgets.QStyle.SubElement.SE_CheckBoxIndicator, opt, box)
    return box.grab(rect).toImage()


@pytest.mark.parametrize("checked", [False, True])
def test_a_check_box_shows_on_the_dark_theme(app, qtbot, checked):
    box = QtWidgets.QCheckBox("Burn in names and timecode")
    qtbot.addWidget(box)
    box.setChecked(checked)
    box.show()
    qtbot.waitExposed(box)
    img = _indicator(box)
    pixels = [img.pixelColor(x, y) for x in range(img.width()) for y in range(img.height())]
    background = _luma(app.palette().color(QtGui.QPalette.ColorRole.Window))
    # Unchecked, its outline stands out from the window (it was near black on it);
    # checked, a white check mark on blue.
    assert max(_luma(c) for c in pixels) > background + 60
    blue = [c for c in pixels if c.blue() > 150 and c.red() < 100]
    white = [c for c in pixels if min(c.red(), c.green(), c.blue()) > 220]
    assert bool(blue) == checked and bool(white) == checked


def test_the_grid_window_fits_a_laptop_screen():
    assert default_size(QtCore.QSize(1920, 1080)).toTuple() == DEFAULT_SIZE
    w, h = default_size(QtCore.QSize(1366, 768)).toTuple()
    assert w <= 1366 and h <= 0.9 * 768  # its transport bar above the screen's edge


def test_the_grid_has_the_players_transport_and_no_empty_status_line(
    app, qtbot, coded_clips, tmp_path
):
    q = str(coded_clips["query"])
    g = GridWindow(TileSpec("query", q), [TileSpec("match", str(coded_clips["match"]), SAME)])
    qtbot.addWidget(g)
    g.show()
    wait_for(qtbot, lambda: g.ready and None not in g.shown_frames())
    assert not g.status.isVisible()  # no blank line under the transport
    assert g.time_label.objectName() == "timecode"  # monospaced, as in the player
    # The icons are drawn light on the dark theme (the style's own were near black).
    icon = g.play_button.icon().pixmap(20, 20).toImage()
    lightest = max(
        _luma(icon.pixelColor(x, y)) for x in range(icon.width()) for y in range(icon.height())
    )
    assert lightest > 200
    g.start_button.click()
    wait_for(qtbot, lambda: g.shown_frames()[0] == 0)
    g.close()
    # A clip that cannot be opened: the line says why.
    bad = tmp_path / "broken take.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))
    g = GridWindow(TileSpec("query", q), [TileSpec("broken", str(bad), SAME)])
    qtbot.addWidget(g)
    g.show()
    wait_for(qtbot, lambda: g.status.isVisible())
    assert "broken take" in g.status.text()
    g.close()
