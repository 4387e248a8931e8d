"""Full screen for the player: the window fills the screen with the videos and their
transport only (F11 or View → Full screen; Esc or F11 again leaves)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets


class FullScreen(QtCore.QObject):
    """Puts a main window in full screen with only its player showing, and back.

    Entering hides the docks, toolbars, menu bar, status bar and the ``extra`` widgets
    (the query panel, the notices), so the central player fills the screen; leaving
    restores the window state, the dock layout and every widget that was visible.
    Esc leaves (a shortcut live only while full screen, so Esc keeps its other uses).

    Parameters
    ----------
    window : QMainWindow
    extra : sequence of QWidget
        Widgets of the central area to hide as well.

    Signals
    -------
    toggled(active)
    """

    toggled = QtCore.Signal(bool)

    def __init__(self, window: QtWidgets.QMainWindow, extra: Sequence[QtWidgets.QWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.extra = list(extra)
        self._saved: tuple[QtCore.QByteArray, QtCore.Qt.WindowState, QtCore.QRect, list] | None = (
            None
        )
        self.escape = QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Escape), window)
        self.escape.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        self.escape.setWhatsThis("Leave full screen")  # Help → Keyboard shortcuts says so
        self.escape.activated.connect(self.leave)
        self.escape.setEnabled(False)

    @property
    def active(self) -> bool:
        """Whether the window is in this full-screen mode."""
        return self._saved is not None

    def toggle(self) -> None:
        """Enter if out, leave if in."""
        if self.active:
            self.leave()
        else:
            self.enter()

    def _chrome(self) -> list[QtWidgets.QWidget]:
        w = self.window
        bars = [w.menuBar(), w.statusBar()]
        return bars + w.findChildren(QtWidgets.QToolBar) + self.extra

    def enter(self) -> None:
        """Full screen, the player alone."""
        if self.active:
            return
        w = self.window
        # isHidden, not isVisible: a panel on a page not showing now comes back too.
        shown = [x for x in self._chrome() if not x.isHidden()]
        self._saved = (w.saveState(), w.windowState(), w.geometry(), shown)
        for dock in w.findChildren(QtWidgets.QDockWidget):
            dock.hide()
        for x in shown:
            x.hide()
        w.showFullScreen()
        self.escape.setEnabled(True)
        self.toggled.emit(True)

    def leave(self) -> None:
        """Back to the window as it was, docks and bars included."""
        if self._saved is None:
            return
        state, window_state, geometry, shown = self._saved
        self._saved = None
        w = self.window
        self.escape.setEnabled(False)
        if window_state & QtCore.Qt.WindowState.WindowMaximized:
            w.showMaximized()
        else:
            w.showNormal()
            w.setGeometry(geometry)  # where it was: not every platform remembers
        for x in shown:
            x.show()
        w.restoreState(state)
        self.toggled.emit(False)
