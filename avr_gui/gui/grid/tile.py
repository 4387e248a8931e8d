"""One tile of the grid: a clip's picture with its caption, nudge and hide controls."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.export.compose import timecode
from avr_gui.gui.frame_source import FrameSource


class TileCanvas(QtWidgets.QWidget):
    """Paints one frame fitted to the widget (aspect kept) and a caption over it."""

    resized = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QtGui.QImage | None = None
        self.caption = ""
        self.message = "Loading…"
        self.setMinimumSize(160, 90)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding
        )

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(12, 12, 14))
        if self.image is None or self.image.isNull():
            p.setPen(QtGui.QColor(170, 170, 170))
            p.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, self.message)
            return
        size = self.image.size().scaled(self.size(), QtCore.Qt.AspectRatioMode.KeepAspectRatio)
        x, y = (self.width() - size.width()) // 2, (self.height() - size.height()) // 2
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(QtCore.QRect(x, y, size.width(), size.height()), self.image)
        if self.caption:
            metrics = p.fontMetrics()
            box = metrics.boundingRect(self.caption).adjusted(-6, -3, 6, 3)
            box.moveTopLeft(QtCore.QPoint(x + 4, y + 4))
            p.fillRect(box, QtGui.QColor(0, 0, 0, 160))
            p.setPen(QtGui.QColor(255, 255, 255))
            p.drawText(box, QtCore.Qt.AlignmentFlag.AlignCenter, self.caption)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class Tile(QtWidgets.QFrame):
    """A clip of the grid: its decoder, what it shows, and its own controls.

    Parameters
    ----------
    index : int
        Place in the grid (0: the query).
    name : str
        Shown in the caption and the header.
    path : str
        The video file.

    Signals
    -------
    nudge_requested(index, frames)
        The user pressed one of the tile's nudge buttons.
    hidden_changed(index, hidden)

    Attributes
    ----------
    source : FrameSource or None
    due, shown : int or None
        Frame due now, frame on screen (the bookkeeping of on-time frames).
    """

    nudge_requested = QtCore.Signal(int, int)
    hidden_changed = QtCore.Signal(int, bool)

    def __init__(self, index: int, name: str, path: str, parent=None) -> None:
        super().__init__(parent)
        self.index = index
        self.name = name
        self.path = path
        self.source: FrameSource | None = None
        self.due: int | None = None
        self.due_since = 0.0
        self.shown: int | None = None
        self.rate = 30.0
        self.setObjectName(f"gridTile{index}")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.canvas = TileCanvas()
        self.title = QtWidgets.QLabel(("Query: " if index == 0 else f"#{index}: ") + name)
        self.title.setToolTip(path)
        self.title.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.back = self._button("−1", "Nudge this clip one frame back", -1)
        self.forward = self._button("+1", "Nudge this clip one frame forward", 1)
        self.nudge_label = QtWidgets.QLabel("0 f")
        self.nudge_label.setToolTip("This clip's nudge, in its own frames")
        self.hide_button = QtWidgets.QToolButton()
        self.hide_button.setText("Hide")
        self.hide_button.setCheckable(True)
        self.hide_button.setToolTip(
            "Hide this clip (the player has no sound to mute); it stops decoding, and "
            "a grid export leaves it out"
        )
        self.hide_button.toggled.connect(self._on_hide)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.title, 1)
        for w in (self.back, self.nudge_label, self.forward, self.hide_button):
            bar.addWidget(w)
        v = QtWidgets.QVBoxLayout(self)
        v.setContentsMargins(1, 1, 1, 1)
        v.setSpacing(0)
        v.addLayout(bar)
        v.addWidget(self.canvas, 1)

    def _button(self, text: str, tip: str, frames: int) -> QtWidgets.QToolButton:
        b = QtWidgets.QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRepeat(True)
        b.clicked.connect(lambda: self.nudge_requested.emit(self.index, frames))
        return b

    @property
    def hidden(self) -> bool:
        """Whether the user hid this tile."""
        return self.hide_button.isChecked()

    def set_hidden(self, hidden: bool) -> None:
        """Hide or show the tile's picture."""
        self.hide_button.setChecked(bool(hidden))

    def _on_hide(self, hidden: bool) -> None:
        self.hide_button.setText("Show" if hidden else "Hide")
        self.canvas.message = f"{self.name} hidden" if hidden else "Loading…"
        if hidden:
            self.canvas.image = None
            self.shown = self.due = None
        self.canvas.update()
        self.hidden_changed.emit(self.index, bool(hidden))

    def show_nudge(self, frames: int) -> None:
        """Say this tile's nudge."""
        self.nudge_label.setText(f"{frames:+d} f" if frames else "0 f")

    def set_frame(self, image: QtGui.QImage, index: int, seconds: float) -> None:
        """Put frame ``index`` (at ``seconds`` of the clip) on screen."""
        self.shown = index
        self.canvas.image = image
        self.canvas.caption = f"{timecode(seconds, self.rate)}  #{index}"
        self.canvas.update()
