"""The export dialog: where the file goes, its layout and burn-in, progress and cancel.

One dialog serves the pair exports (re-timed match, side by side) and the grid of top
matches. It starts in a folder outside the library
(:func:`~avr_gui.core.workspace.exports.export_folder`: the query's own folder, else
Videos/AVR exports), so an export is never indexed as a clip. The job runs on the
window's :class:`~avr_gui.gui.workers.JobRunner`: the dialog shows its progress, Cancel
stops it (the core leaves no partial file), and a failure is said in one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from avr_gui.core.workspace.exports import EXPORTS_FOLDER, default_export_path, export_folder
from avr_gui.core.workspace.labels import error_text
from avr_gui.gui.workers import JobFn, JobHandle

#: Side-by-side arrangements offered: (label, export ``arrangement``).
ARRANGEMENTS = (
    ("Auto (below a portrait query)", "auto"),
    ("Left | right", "left-right"),
    ("Top / bottom", "top-bottom"),
)
#: Side-by-side panel sizes offered: (label, export ``scale``).
SCALES = (
    ("Original resolution of each clip", "original"),
    ("Equal heights (the taller clip's)", "equal"),
    ("The query's size", "query"),
)
#: Grid tile heights offered: (label, ``tile_height`` or None for the query's own).
TILE_HEIGHTS = (
    ("The query's resolution", None),
    ("720 pixels high", 720),
    ("480 pixels high", 480),
    ("360 pixels high", 360),
)
VIDEO_FILTER = "Video (*.mp4 *.mov *.mkv)"


def videos_dir() -> str:
    """The user's videos folder (Qt's Movies location, else ``~/Videos``)."""
    loc = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.MoviesLocation
    )
    return loc or str(Path.home() / "Videos")


class ExportDialog(QtWidgets.QDialog):
    """Choose the output and the options of one export, then run it with progress.

    Parameters
    ----------
    parent : QWidget
    kind : str
        ``"side-by-side"``, ``"retimed"`` or ``"grid"`` (which options are shown).
    default_path : str
        The file offered (in a folder outside the library).
    make_job : callable
        ``make_job(out, options) -> job``: the job writing ``out`` with the chosen
        ``options`` (keyword arguments of the export: ``burn_in``, ``arrangement``,
        ``scale``, ``tile_height``).
    submit : callable
        ``submit(name, job) -> JobHandle`` (the window's job runner).

    Attributes
    ----------
    handle : JobHandle or None
        The running (or last) export.
    written : str or None
        The file written, once done.
    """

    def __init__(
        self,
        parent: QtWidgets.QWidget | None,
        *,
        kind: str,
        default_path: str,
        make_job: Callable[[str, dict[str, Any]], JobFn],
        submit: Callable[[str, JobFn], JobHandle],
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        titles = {"grid": "Export the grid", "side-by-side": "Export side by side"}
        self.setWindowTitle(titles.get(kind, "Export re-timed match"))
        self.kind = kind
        self.default_folder = str(Path(default_path).parent)
        self.make_job = make_job
        self.submit = submit
        self.handle: JobHandle | None = None
        self.written: str | None = None

        self.path_edit = QtWidgets.QLineEdit(default_path)
        self.path_edit.setMinimumWidth(420)
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QtWidgets.QFormLayout()
        form.addRow("File", row)
        self.arrangement_box = self._combo(ARRANGEMENTS)
        self.scale_box = self._combo(SCALES)
        self.tile_box = self._combo(TILE_HEIGHTS)
        if kind == "side-by-side":
            form.addRow("Layout", self.arrangement_box)
            form.addRow("Size", self.scale_box)
        if kind == "grid":
            form.addRow("Tiles", self.tile_box)
        self.burn_in_box = QtWidgets.QCheckBox("Burn in names and timecode (HH:MM:SS:FF)")
        self.burn_in_box.setToolTip(
            "Write each clip's name, SMPTE timecode and frame number into its picture"
        )
        form.addRow("", self.burn_in_box)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setVisible(False)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(
            QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        v = QtWidgets.QVBoxLayout(self)
        v.addLayout(form)
        v.addWidget(self.progress)
        v.addWidget(self.status)
        v.addWidget(self.buttons)

    def _combo(self, items: tuple[tuple[str, Any], ...]) -> QtWidgets.QComboBox:
        box = QtWidgets.QComboBox()
        for text, value in items:
            box.addItem(text, value)
        return box

    # ------------------------------------------------------------------ choices

    @property
    def out(self) -> str:
        """The output file chosen."""
        return self.path_edit.text().strip()

    def options(self) -> dict[str, Any]:
        """The export's keyword arguments for the choices made."""
        opts: dict[str, Any] = {"burn_in": self.burn_in_box.isChecked()}
        if self.kind == "side-by-side":
            opts["arrangement"] = self.arrangement_box.currentData()
            opts["scale"] = self.scale_box.currentData()
        if self.kind == "grid":
            opts["tile_height"] = self.tile_box.currentData()
        return opts

    def browse(self) -> None:
        """Pick the output file in a file dialog (starting at the current choice)."""
        folder = Path(self.out).parent
        if not folder.is_dir():
            # The default exports folder may not exist yet: start above it.
            folder = folder.parent if folder.parent.is_dir() else Path.home()
        start = str(folder / Path(self.out).name)
        out, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export to", start, VIDEO_FILTER)
        if out:
            self.path_edit.setText(out)

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        """Whether the export job is running."""
        return self.handle is not None and not self.handle.done

    def start(self) -> JobHandle | None:
        """Start the export with the choices made (None: nothing to start)."""
        if self.running:
            return self.handle
        out = self.out
        if not out:
            self.status.setText("Choose a file to export to")
            return None
        folder = Path(out).parent
        if str(folder) == self.default_folder and folder.name == EXPORTS_FOLDER:
            # The offered exports folder is made on first use.
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.status.setText(f"Cannot create {folder}: {exc.strerror or exc}")
                return None
        try:
            job = self.make_job(out, self.options())
        except Exception as exc:  # NotReady and bad choices: said, nothing started
            self.status.setText(error_text(exc))
            return None
        h = self.submit("Exporting", job)
        self.handle = h
        self.written = None
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("Exporting…")
        self.export_button.setEnabled(False)
        h.progress.connect(self._on_progress)
        h.finished.connect(self._on_finished)
        h.failed.connect(lambda exc, tb: self._on_ended(f"Export failed: {error_text(exc)}"))
        h.cancelled.connect(lambda: self._on_ended("Cancelled: nothing was written"))
        return h

    def cancel(self) -> None:
        """Stop a running export (its file is not written), else close the dialog."""
        if self.running:
            assert self.handle is not None
            self.handle.cancel()
            self.status.setText("Cancelling…")
        else:
            self.reject()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(f"{message} {done}/{total}" if total else message)

    def _on_finished(self, path: Any) -> None:
        self.written = str(path)
        self._on_ended(f"Wrote {path}")
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Close")

    def _on_ended(self, message: str) -> None:
        self.progress.setVisible(False)
        self.status.setText(message)
        self.export_button.setEnabled(True)

    def reject(self) -> None:
        # Closing the dialog (Esc, the window's X) while it exports cancels the export.
        if self.running:
            assert self.handle is not None
            self.handle.cancel()
        super().reject()


def library_folders(ws: Any) -> list[str]:
    """The workspace library's folders and index folder (exports stay out of them)."""
    snap = getattr(ws, "snapshot", None)
    folders = [] if snap is None else [str(f) for f in snap.folders]
    return [*folders, str(ws.index_dir)]


def open_pair_export(win: Any, kind: str, file_filter: str) -> ExportDialog | None:
    """Export the main window's selected pair: the dialog for videos, a file dialog for maps.

    Parameters
    ----------
    win : MainWindow
    kind : str
        ``"retimed"``, ``"side-by-side"`` or ``"map"``.
    file_filter : str
        For the time map's file dialog.

    Returns
    -------
    ExportDialog or None
        The dialog shown (None for a time map).
    """
    ws = win.ws
    folder = export_folder(ws.played_query, library_folders(ws), videos_dir())
    start = default_export_path(str(ws.match.path), kind, folder)
    if kind == "map":
        os.makedirs(folder, exist_ok=True)
        out, _ = QtWidgets.QFileDialog.getSaveFileName(win, "Save time map", start, file_filter)
        if out:
            win.export(kind, file_filter, out)
        return None
    act = win.skeleton_export_action

    def make_job(out: str, options: dict[str, Any]) -> JobFn:
        skeletons = act.isEnabled() and act.isChecked()
        return ws.export_job(kind, out, skeletons=skeletons, **options)

    dialog = ExportDialog(win, kind=kind, default_path=start, make_job=make_job, submit=win.submit)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
