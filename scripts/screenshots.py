"""Screenshots of the real app for the README: run under Xvfb.

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py docs/

Grabs the whole X screen (window decorations and all), as a person would see it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from avr_gui.gui.app import MainWindow


def main(out: str = "docs") -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    win = MainWindow()
    win.resize(1000, 700)
    win.move(20, 20)
    win.show()
    shots = {"main_window.png": win}

    def grab() -> None:
        for name, widget in shots.items():
            pix = app.primaryScreen().grabWindow(0)
            if pix.isNull():  # offscreen platform: no screen to grab, grab the widget
                pix = widget.grab()
            target = Path(out) / name
            tmp = target.with_suffix(".tmp.png")
            pix.save(str(tmp), "PNG")
            tmp.replace(target)
            print(f"wrote {target}")
        app.quit()

    QtCore.QTimer.singleShot(1500, grab)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
