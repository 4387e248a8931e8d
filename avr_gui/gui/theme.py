"""The dark theme: Fusion style, a neutral dark palette and ``resources/dark.qss``.

Greys are neutral (no tint) so the user's judgement of colour in the video is not
biased by the surrounding interface.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

#: Colours shared with the plots.
BACKGROUND = "#1e1f23"
FOREGROUND = "#d6d7db"


def resource(name: str) -> str:
    """File-system path of a packaged resource (``avr_gui/resources/NAME``)."""
    return str(files("avr_gui") / "resources" / name)


def dark_palette() -> QtGui.QPalette:
    """A neutral dark palette for the Fusion style."""
    P = QtGui.QPalette
    c = QtGui.QColor
    pal = P()
    pal.setColor(P.ColorRole.Window, c(BACKGROUND))
    pal.setColor(P.ColorRole.WindowText, c(FOREGROUND))
    pal.setColor(P.ColorRole.Base, c("#1b1c20"))
    pal.setColor(P.ColorRole.AlternateBase, c("#202126"))
    pal.setColor(P.ColorRole.ToolTipBase, c("#2b2d33"))
    pal.setColor(P.ColorRole.ToolTipText, c("#eeeeee"))
    pal.setColor(P.ColorRole.Text, c(FOREGROUND))
    pal.setColor(P.ColorRole.Button, c("#2c2e34"))
    pal.setColor(P.ColorRole.ButtonText, c(FOREGROUND))
    pal.setColor(P.ColorRole.BrightText, c("#ff6060"))
    pal.setColor(P.ColorRole.Highlight, c("#2f6fd1"))
    pal.setColor(P.ColorRole.HighlightedText, c("#ffffff"))
    pal.setColor(P.ColorRole.Link, c("#6aa8ff"))
    pal.setColor(P.ColorRole.PlaceholderText, c("#6f7178"))
    for role in (P.ColorRole.WindowText, P.ColorRole.Text, P.ColorRole.ButtonText):
        pal.setColor(P.ColorGroup.Disabled, role, c("#6b6d74"))
    return pal


def apply_theme(app: QtWidgets.QApplication) -> None:
    """Style the whole application (call once, before windows are built)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    with open(resource("dark.qss"), encoding="utf-8") as fh:
        # Images in the sheet (the check mark) are found wherever the package is.
        folder = Path(resource("dark.qss")).parent.as_posix()
        app.setStyleSheet(fh.read().replace("@RESOURCES@", folder))
    pg.setConfigOptions(
        imageAxisOrder="row-major", background=BACKGROUND, foreground=FOREGROUND, antialias=False
    )
