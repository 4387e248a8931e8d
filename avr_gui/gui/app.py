"""``avr-gui``: the desktop app's entry point.

Until the desktop-app issue lands this opens one window that shows a demo alignment's
cost matrix with its warp path, so the Qt, pyqtgraph and core stack is exercised end
to end.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.align import Alignment, AlignmentOptions, align
from avr_gui.core.features import thumbnail_features
from avr_gui.core.synth import ClipStyle, render_frames, speed_warp

ICON = "avr-studio.svg"


def demo_alignment() -> Alignment:
    """Align two generated renderings of one action (no files written)."""
    q = render_frames(0, speed_warp(40, (1.0,)), (96, 72), ClipStyle(seed=1))
    c = render_frames(0, speed_warp(55, (0.5, 2.0)), (96, 72), ClipStyle((90, 240, 120), seed=2))
    return align(thumbnail_features(q), thumbnail_features(c), AlignmentOptions())


class MainWindow(QtWidgets.QMainWindow):
    """The placeholder main window: a cost matrix with the optimal warp path."""

    def __init__(self, alignment: Alignment | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"AVR Studio {__version__}")
        self.resize(900, 640)
        self.alignment = alignment if alignment is not None else demo_alignment()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        self.summary = QtWidgets.QLabel(
            "Preview: two generated clips of one action, the second played slow then fast. "
            f"DRAQ {self.alignment.draq:.3f} (lower = more alignable; about 1 = chance), "
            f"DTW cost {self.alignment.dtw_cost:.2f}. Dark cells are similar frames; the white "
            "line is the optimal warp path. Library, query and synced-player views are "
            "coming; meanwhile use `avr demo` and `avr align` on the command line."
        )
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "query frame")
        self.plot.setLabel("bottom", "match frame")
        self.plot.invertY(True)
        cost = self.alignment.cost
        assert cost is not None
        # Row-major image: rows = query frames (y), columns = match frames (x).
        self.image = pg.ImageItem(np.ascontiguousarray(cost), axisOrder="row-major")
        self.plot.addItem(self.image)
        bar = pg.ColorBarItem(values=(float(cost.min()), float(cost.max())), colorMap="viridis")
        bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        path = self.alignment.path
        self.path_curve = self.plot.plot(
            path[:, 1] + 0.5, path[:, 0] + 0.5, pen=pg.mkPen("w", width=2)
        )
        layout.addWidget(self.plot, 1)
        self.setCentralWidget(central)
        about = QtGui.QAction("&About AVR Studio", self)
        about.triggered.connect(self.show_about)
        quit_action = QtGui.QAction("&Quit", self)
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&File")
        menu.addAction(quit_action)
        self.menuBar().addMenu("&Help").addAction(about)

    def about_text(self) -> str:
        """Versions shown in the About box."""
        from avr_gui.core.device import resolve_device

        return (
            f"AVR Studio {__version__}\nQt {QtCore.qVersion()}, PySide6, "
            f"pyqtgraph {pg.__version__}, NumPy {np.__version__}\n"
            f"Compute device: {resolve_device()}"
        )

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(self, "About AVR Studio", self.about_text())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avr-gui``."""
    ap = argparse.ArgumentParser(prog="avr-gui", description="AVR Studio desktop app")
    ap.add_argument("--version", action="version", version=f"AVR Studio {__version__}")
    args, qt_args = ap.parse_known_args(argv)
    del args
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([sys.argv[0], *qt_args])
    from importlib.resources import files

    icon_path = files("avr_gui") / "resources" / ICON
    app.setWindowIcon(QtGui.QIcon(str(icon_path)))
    pg.setConfigOptions(imageAxisOrder="row-major")
    win = MainWindow()
    win.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
