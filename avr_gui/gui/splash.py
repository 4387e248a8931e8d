"""The start-up splash shown while the compiled kernels load.

:func:`avr_gui.core.align.warmup.warm_up` takes ~0.7 s when numba's cache is warm, but
~10 s on the very first start (a fresh install or bundle compiles every kernel; 14 s
to the first window measured for the bundle). Nothing on screen for that long looks
like a hang, so the app shows a splash and keeps it painted while a thread warms up.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.align.warmup import warm_up
from avr_gui.gui.theme import resource

#: After this long the splash says why the start takes a while (seconds).
SLOW_START_S = 1.5

log = logging.getLogger(__name__)


def splash_pixmap(icon: str = "avr-studio.svg") -> QtGui.QPixmap:
    """The splash picture: icon, name and version on the theme's dark background."""
    dpr = 2.0
    w, h = 440, 200
    pix = QtGui.QPixmap(round(w * dpr), round(h * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(QtGui.QColor(28, 29, 33))
    p = QtGui.QPainter(pix)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    QtGui.QIcon(resource(icon)).paint(p, QtCore.QRect(28, 44, 96, 96))
    font = QtWidgets.QApplication.font()
    font.setPointSizeF(font.pointSizeF() * 1.9)
    font.setBold(True)
    p.setFont(font)
    p.setPen(QtGui.QColor(235, 235, 240))
    p.drawText(QtCore.QRectF(144, 56, 280, 44), "AVR Studio")
    font.setPointSizeF(font.pointSizeF() / 1.9)
    font.setBold(False)
    p.setFont(font)
    p.setPen(QtGui.QColor(150, 152, 160))
    p.drawText(QtCore.QRectF(146, 100, 280, 24), f"version {__version__}")
    p.end()
    return pix


def warm_up_with_splash(app: QtWidgets.QApplication) -> float:
    """Run :func:`warm_up` on a thread behind a splash that keeps painting.

    A warm-up failure is logged and otherwise ignored: the kernels then load on first use.

    Returns
    -------
    float
        Seconds the splash was up.
    """
    splash = QtWidgets.QSplashScreen(splash_pixmap())
    splash.showMessage(
        "Loading…",
        QtCore.Qt.AlignmentFlag.AlignBottom | QtCore.Qt.AlignmentFlag.AlignHCenter,
        QtGui.QColor(150, 152, 160),
    )
    splash.show()
    app.processEvents()
    done = threading.Event()

    def run() -> None:
        try:
            warm_up()
        except Exception:  # the app still works; kernels compile when first used
            log.exception("warming up the alignment kernels failed; they load on first use")
        finally:
            done.set()

    t0 = time.monotonic()
    threading.Thread(target=run, name="warm-up", daemon=True).start()
    told = False
    while not done.wait(0.03):
        if not told and time.monotonic() - t0 > SLOW_START_S:
            splash.showMessage(
                "Preparing the alignment kernels (first start only)…",
                QtCore.Qt.AlignmentFlag.AlignBottom | QtCore.Qt.AlignmentFlag.AlignHCenter,
                QtGui.QColor(150, 152, 160),
            )
            told = True
        app.processEvents()
    splash.close()
    splash.deleteLater()
    return time.monotonic() - t0
