"""The query panel: choose a clip (open, drop, or from the library), trim it, run it."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

#: File name endings taken for videos (dialog filter, and what a drop accepts).
VIDEO_SUFFIXES = (
    ".mp4 .mov .m4v .mkv .avi .webm .mpg .mpeg .ts .m2ts .mts .mxf .wmv .flv .3gp .ogv"
).split()
VIDEO_FILTER = f"Videos ({' '.join('*' + s for s in VIDEO_SUFFIXES)});;All files (*)"
_NO_QUERY = "Drop a video here, open one, or pick one in the library"
#: What the query was matched by (``QueryResult.query_performer``): tag text and tooltip.
MATCHED_BY = {
    True: (
        "matched by body pose",
        "A person performs in the query (between In and Out), so the library was "
        "searched by how the body moves: clips of someone doing the same movement rank "
        "first, whatever the room, the clothes or the camera",
    ),
    False: (
        "matched by appearance",
        "No one performs in the query (between In and Out), so the library was searched "
        "by how the frames look",
    ),
}
_TAG_STYLE = (
    "QLabel {{ color: {fg}; border: 1px solid {fg}; border-radius: 8px; padding: 0px 7px; }}"
)
_TAG_COLOURS = {True: "#78b0ff", False: "#b0b2ba"}


def matched_by_text(performer: bool | None) -> str:
    """A few words saying what a query was matched by (empty when not known).

    Parameters
    ----------
    performer : bool or None
        ``QueryResult.query_performer``.

    Returns
    -------
    str
    """
    return MATCHED_BY[performer][0] if performer is not None else ""


class QueryPanel(QtWidgets.QWidget):
    """Query clip, in/out points and the run/cancel buttons with progress.

    Signals
    -------
    query_chosen(path)
        A new query file was chosen (opened, dropped or picked from the library).
    run_requested(path, trim)
        ``trim`` is ``(in_s, out_s)`` or ``None`` for the whole clip.
    trim_changed(trim)
        The in or out point moved (``trim`` as above).
    cancel_requested()
    """

    query_chosen = QtCore.Signal(str)
    trim_changed = QtCore.Signal(object)
    run_requested = QtCore.Signal(str, object)
    cancel_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.path: str | None = None
        self.duration = 0.0
        self.name = QtWidgets.QLabel(_NO_QUERY)
        self.name.setObjectName("queryName")
        self.matched_by = QtWidgets.QLabel("")
        self.matched_by.setObjectName("queryMatchedBy")
        self.matched_by.setVisible(False)
        self.open_button = QtWidgets.QPushButton("Open…")
        self.open_button.setToolTip("Open a query video (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_file)
        self.in_box = self._time_box("In point (press I in the player to set it there)")
        self.out_box = self._time_box("Out point (press O in the player to set it there)")
        for box in (self.in_box, self.out_box):
            box.valueChanged.connect(lambda _: self.trim_changed.emit(self.trim()))
        self.whole = QtWidgets.QPushButton("Whole clip")
        self.whole.setToolTip("Reset the in and out points to the whole clip")
        self.whole.clicked.connect(self.reset_trim)
        self.run_button = QtWidgets.QPushButton("Find matches")
        self.run_button.setObjectName("primary")
        self.run_button.setEnabled(False)
        self.run_button.setToolTip("Search the library for clips that align with the query")
        self.run_button.clicked.connect(self.request_run)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QtWidgets.QProgressBar()
        self._set_progress(0, 1)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.message = QtWidgets.QLabel("")
        self.message.setObjectName("dim")
        for label in (self.name, self.message):
            label.setSizePolicy(
                QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
            )

        top = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel("Query")
        label.setObjectName("heading")
        top.addWidget(label)
        top.addWidget(self.name, 1)
        top.addWidget(self.matched_by)
        top.addWidget(self.open_button)
        trim = QtWidgets.QHBoxLayout()
        trim.addWidget(QtWidgets.QLabel("In"))
        trim.addWidget(self.in_box)
        trim.addWidget(QtWidgets.QLabel("Out"))
        trim.addWidget(self.out_box)
        trim.addWidget(self.whole)
        trim.addStretch(1)
        trim.addWidget(self.run_button)
        trim.addWidget(self.cancel_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(trim)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)

    def _time_box(self, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(2)
        box.setSuffix(" s")
        box.setSingleStep(0.1)
        box.setRange(0.0, 0.0)
        box.setToolTip(tip)
        box.setEnabled(False)
        return box

    # ------------------------------------------------------------------ choosing

    def choose_file(self) -> None:
        """Ask for a query video (a file dialog); choosing one emits :attr:`query_chosen`."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a query video", "", VIDEO_FILTER
        )
        if path:
            self.set_query(path)

    def set_query(self, path: str, duration: float | None = None) -> None:
        """Make ``path`` the query; ``duration`` (s) bounds the in/out points when known."""
        self.path = str(path)
        self.name.setText(Path(path).name)
        self.name.setToolTip(str(path))
        self.run_button.setEnabled(True)
        self.message.setText("")
        self.set_matched_by(None)
        self.set_duration(duration or 0.0)
        self.query_chosen.emit(self.path)

    def clear(self) -> None:
        """No query (as at start)."""
        self.path = None
        self.name.setText(_NO_QUERY)
        self.name.setToolTip("")
        self.run_button.setEnabled(False)
        self.message.setText("")
        self.set_matched_by(None)
        self.set_duration(0.0)

    def show_message(self, text: str) -> None:
        """The line under the query (what the last query did, or why it failed)."""
        self.message.setText(text)

    def set_matched_by(self, performer: bool | None) -> None:
        """Say whether the query was matched by body pose or appearance (None: hide it).

        Parameters
        ----------
        performer : bool or None
            ``QueryResult.query_performer`` of the last query (None outside ``auto``
            libraries, or before a query ran).
        """
        if performer is None:
            self.matched_by.setVisible(False)
            self.matched_by.setText("")
            self.matched_by.setToolTip("")
            return
        text, tip = MATCHED_BY[bool(performer)]
        self.matched_by.setText(text)
        self.matched_by.setToolTip(tip)
        self.matched_by.setStyleSheet(_TAG_STYLE.format(fg=_TAG_COLOURS[bool(performer)]))
        self.matched_by.setVisible(True)

    def set_duration(self, duration: float) -> None:
        """Bound the in/out points by the clip's length (s) and select the whole clip."""
        self.duration = max(0.0, float(duration))
        for box in (self.in_box, self.out_box):
            box.setRange(0.0, self.duration)
            box.setEnabled(self.duration > 0)
        self.reset_trim()

    def reset_trim(self) -> None:
        """In at 0, out at the end."""
        self.in_box.setValue(0.0)
        self.out_box.setValue(self.duration)

    def set_in(self, t: float) -> None:
        """Set the in point (s)."""
        self.in_box.setValue(t)

    def set_out(self, t: float) -> None:
        """Set the out point (s)."""
        self.out_box.setValue(t)

    def trim(self) -> tuple[float, float] | None:
        """``(in, out)`` seconds, or ``None`` when the whole clip is selected."""
        a, b = self.in_box.value(), self.out_box.value()
        if self.duration <= 0 or (a <= 0.005 and b >= self.duration - 0.005):
            return None
        return (a, b)

    def request_run(self) -> None:
        """Emit :attr:`run_requested` for the query and trim (unless the trim is empty)."""
        if not self.path:
            return
        a, b = self.in_box.value(), self.out_box.value()
        if self.duration > 0 and b <= a:
            self.message.setText("The out point must come after the in point")
            return
        self.run_requested.emit(self.path, self.trim())

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if self._dropped_path(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        path = self._dropped_path(event.mimeData())
        if path:
            self.set_query(path)
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        if self._dropped_path(event.mimeData()):
            event.acceptProposedAction()

    @staticmethod
    def _dropped_path(mime: QtCore.QMimeData) -> str | None:
        """The first local video file among the dropped URLs (None: refuse the drop).

        Only files named like videos: a dropped folder or document is refused at once
        (the pointer says so) instead of failing as a query later.
        """
        for url in mime.urls():
            path = Path(url.toLocalFile()) if url.isLocalFile() else None
            if path is not None and path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
                return str(path)
        return None

    # ------------------------------------------------------------------ what jobs report

    def set_busy(self, busy: bool) -> None:
        """A query runs (cancel enabled) or not."""
        self.run_button.setEnabled(not busy and self.path is not None)
        self.cancel_button.setEnabled(busy)
        self.open_button.setEnabled(not busy)
        # Determinate only: Qt's busy animation repaints non-stop and costs the GUI
        # thread tens of milliseconds per second under a style sheet.
        self._set_progress(0, 1)

    def show_progress(self, done: int, total: int, message: str) -> None:
        """Progress of the running query."""
        if total > 0:
            self._set_progress(min(done, total), total)
        self.message.setText(message)

    def _set_progress(self, value: int, maximum: int) -> None:
        # setRange re-lays out the styled bar (tens of ms here): only when it changes.
        if self.progress.maximum() != maximum or self.progress.minimum() != 0:
            self.progress.setRange(0, maximum)
        if self.progress.value() != value:
            self.progress.setValue(value)
