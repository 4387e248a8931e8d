""" "Teach from folders…" and "Revert to the default features": a library learns a pose model.

:class:`TeachDialog` asks where the labels come from (the clips' folder names, or a CSV
of ``path,label``) and how many steps to train, then runs the training as a job with a
progress bar and Cancel; a refusal (one label, a label held by one clip, a bad CSV)
shows as one line in the dialog. :func:`add_teach_actions` puts both actions in a menu.
The jobs and texts are :mod:`avr_gui.core.workspace.teach`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.core.library.learned import DEFAULT_STEPS
from avr_gui.core.workspace.labels import error_text
from avr_gui.core.workspace.teach import TeachRequest, revert_job, teach_done_text, teach_job

#: Lane of the training job: its own thread, so the library's lane stays free for queries.
TEACH_LANE = "teach"

Submit = Callable[..., Any]


class TeachDialog(QtWidgets.QDialog):
    """Labels, steps, then training with progress and Cancel.

    Parameters
    ----------
    index_dir : str
        The library's index folder.
    submit : callable
        ``submit(name, job, lane=...) -> JobHandle`` (the window's, or a JobRunner's).
    parent : QWidget, optional

    Signals
    -------
    taught(summary)
        Training ended and the model is in use.
    """

    taught = QtCore.Signal(object)

    def __init__(
        self, index_dir: str, submit: Submit, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teach from folders")
        self.index_dir = index_dir
        self._submit = submit
        self.job: Any = None
        self.by_folder = QtWidgets.QRadioButton("Labels from the clips' folder names")
        self.by_folder.setToolTip("Clips in the same folder show the same action")
        self.by_csv = QtWidgets.QRadioButton("Labels from a CSV file (path,label):")
        self.by_folder.setChecked(True)
        self.csv_edit = QtWidgets.QLineEdit()
        self.csv_edit.setPlaceholderText("labels.csv")
        self.browse = QtWidgets.QPushButton("Browse…")
        self.browse.clicked.connect(self._choose_csv)
        self.steps = QtWidgets.QSpinBox()
        self.steps.setRange(1, 100_000)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip("More steps learn more and take longer; Cancel keeps what is done")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QtWidgets.QLabel(
            "Clips sharing a label are aligned and pulled together; performer clips are "
            "then compared by what was learned."
        )
        self.status.setWordWrap(True)
        self.teach_button = QtWidgets.QPushButton("Teach")
        self.teach_button.setDefault(True)
        self.teach_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Close")
        self.cancel_button.clicked.connect(self.cancel)

        csv_row = QtWidgets.QHBoxLayout()
        csv_row.addWidget(self.csv_edit, 1)
        csv_row.addWidget(self.browse)
        form = QtWidgets.QFormLayout()
        form.addRow("Training steps:", self.steps)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.teach_button)
        buttons.addWidget(self.cancel_button)
        lay = QtWidgets.QVBoxLayout(self)
        for w in (self.by_folder, self.by_csv):
            lay.addWidget(w)
        lay.addLayout(csv_row)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        self.by_csv.toggled.connect(self._sync)
        self._sync()
        self.resize(520, self.sizeHint().height())

    @property
    def running(self) -> bool:
        """Whether a training runs now."""
        return self.job is not None and not self.job.done

    def _sync(self) -> None:
        idle = not self.running
        for w in (self.by_folder, self.by_csv, self.steps, self.teach_button):
            w.setEnabled(idle)
        csv = idle and self.by_csv.isChecked()
        self.csv_edit.setEnabled(csv)
        self.browse.setEnabled(csv)
        self.cancel_button.setText("Cancel" if not idle else "Close")

    def _choose_csv(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Labels", "", "CSV files (*.csv);;All files (*)"
        )
        if path:
            self.csv_edit.setText(path)
            self.by_csv.setChecked(True)

    def request(self) -> TeachRequest:
        """What the dialog asks for now."""
        csv = self.csv_edit.text().strip() if self.by_csv.isChecked() else None
        return TeachRequest(self.index_dir, csv or None, int(self.steps.value()))

    def start(self) -> Any:
        """Start training (a job); returns its handle, or None if one is running."""
        if self.running:
            return None
        req = self.request()
        if self.by_csv.isChecked() and not req.labels_csv:
            self._say("Choose the CSV file of labels first.", error=True)
            return None
        self.progress.setRange(0, req.steps)
        self.progress.setValue(0)
        self._say("Reading the stored poses…")
        h = self._submit("Teaching the library", teach_job(req), lane=TEACH_LANE)
        self.job = h
        h.progress.connect(self._on_progress)
        h.finished.connect(self._on_finished)
        h.failed.connect(lambda exc, tb: self._say(error_text(exc), error=True))
        h.cancelled.connect(
            lambda: self._say("Stopped. Teach again with the same settings to resume.")
        )
        h.ended.connect(self._sync)
        self._sync()
        return h

    def cancel(self) -> None:
        """Stop the training (its checkpoint is kept), or close when none runs."""
        if self.running:
            self.job.cancel()
            self._say("Stopping after this step…")
        else:
            self.reject()

    def reject(self) -> None:
        """Esc and the window's close button cancel a running training first."""
        if self.running:
            self.cancel()
            return
        super().reject()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self._say(message[:1].upper() + message[1:])

    def _on_finished(self, summary: Any) -> None:
        self.progress.setValue(self.progress.maximum())
        self._say(teach_done_text(summary))
        self.taught.emit(summary)

    def _say(self, text: str, *, error: bool = False) -> None:
        # One line: errors are one line already, progress messages too.
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")


def add_teach_actions(win: Any, menu: QtWidgets.QMenu) -> None:
    """Add "Teach from folders…" and "Revert to the default features" to ``menu``.

    They become ``win.teach_action`` and ``win.revert_learned_action``; the dialog
    while open is ``win.teach_dialog``.

    Parameters
    ----------
    win : MainWindow
        Its ``ws`` (``index_dir``, ``readonly``), ``submit``, ``statusBar`` and
        ``refresh_library`` are used.
    menu : QMenu
    """
    win.teach_dialog = None

    def usable() -> bool:
        if getattr(win.ws, "library", None) is None:
            win.statusBar().showMessage("Open a library first", 5000)
            return False
        if getattr(win.ws, "readonly", False):
            win.statusBar().showMessage("This library is read-only: it cannot learn", 5000)
            return False
        return True

    def teach() -> None:
        if not usable():
            return
        if win.teach_dialog is None or win.teach_dialog.index_dir != win.ws.index_dir:
            win.teach_dialog = TeachDialog(win.ws.index_dir, win.submit, win)

            def done(summary: Any) -> None:
                win.statusBar().showMessage(teach_done_text(summary), 8000)
                win.refresh_library()

            win.teach_dialog.taught.connect(done)
        win.teach_dialog.show()
        win.teach_dialog.raise_()

    def revert() -> None:
        if not usable():
            return
        h = win.submit("Reverting the learned model", revert_job(win.ws.index_dir))

        def done(removed: bool) -> None:
            win.statusBar().showMessage(
                "Performer clips are compared by the default pose features again"
                if removed
                else "No learned model: the default features are in use",
                8000,
            )
            win.refresh_library()

        h.finished.connect(done)

    def action(text: str, slot: Callable[[], None], tip: str) -> QtGui.QAction:
        a = QtGui.QAction(text, win)
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    win.teach_action = action(
        "&Teach from folders…",
        teach,
        "Learn a pose model from the library's clips, labelled by folder or by a CSV",
    )
    win.revert_learned_action = action(
        "Revert to the default features",
        revert,
        "Remove the learned pose model: compare performers by the default pose features",
    )
