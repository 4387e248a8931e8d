"""The start-up splash: shown while the kernels load, gone afterwards."""

from __future__ import annotations

import logging

from PySide6 import QtWidgets

from avr_gui.gui import splash


def test_splash_warms_up_and_closes(app, qtbot, monkeypatch):
    seen = {}
    real = splash.warm_up

    def observed() -> float:
        shown = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()]
        seen["splash"] = any(isinstance(w, QtWidgets.QSplashScreen) for w in shown)
        return real()

    monkeypatch.setattr(splash, "warm_up", observed)
    seconds = splash.warm_up_with_splash(app)
    assert seen["splash"] and seconds >= 0
    qtbot.wait(10)
    assert not any(
        isinstance(w, QtWidgets.QSplashScreen) and w.isVisible()
        for w in QtWidgets.QApplication.topLevelWidgets()
    )


def test_a_failing_warm_up_still_lets_the_app_start(app, monkeypatch, caplog):
    def broken() -> float:
        raise RuntimeError("no compiler today")

    monkeypatch.setattr(splash, "warm_up", broken)
    with caplog.at_level(logging.ERROR, logger="avr_gui.gui.splash"):
        assert splash.warm_up_with_splash(app) >= 0
    # Logged with its traceback, not printed.
    assert "no compiler today" in caplog.text and "warming up" in caplog.text
    assert caplog.records[-1].exc_info is not None


def test_splash_picture_is_drawn(app):
    pix = splash.splash_pixmap()
    assert not pix.isNull() and pix.deviceIndependentSize().width() == 440
    img = pix.toImage()
    # Not a blank fill: the icon and the name are drawn on the background.
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 10
