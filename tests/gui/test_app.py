"""The placeholder window with real Qt widgets (offscreen)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from avr_gui import __version__
from avr_gui.gui.app import MainWindow, main


def test_window_shows_the_demo_alignment(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert __version__ in win.windowTitle()
    cost = win.alignment.cost
    assert win.image.image.shape == cost.shape
    np.testing.assert_array_equal(win.image.image, cost)
    xs, ys = win.path_curve.getData()
    np.testing.assert_allclose(xs, win.alignment.path[:, 1] + 0.5)
    np.testing.assert_allclose(ys, win.alignment.path[:, 0] + 0.5)
    assert "DRAQ" in win.summary.text()
    # Two renderings of the same action align far better than chance.
    assert win.alignment.draq < 0.6
    about = win.about_text()
    assert __version__ in about and "Compute device" in about


def test_version_flag_exits_cleanly():
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
