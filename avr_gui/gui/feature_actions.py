"""Switching a library's features and installing the pose models, from the window.

:class:`FeatureActions` answers the library panel's requests: another encoder (after
asking, the library is opened again with it and re-indexed, with the panel's progress
and cancel) and installing the BlazePose models (a job, with a progress dialog that can
cancel it). The rules and texts are :mod:`avr_gui.core.workspace.features`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from avr_gui.core.workspace.features import (
    FeatureOptions,
    install_pose_job,
    label_of,
    options_job,
    reindex_question,
)
from avr_gui.core.workspace.labels import POSE_MODEL_ENCODERS, error_text


class FeatureActions:
    """The window's feature switching and pose-model installation.

    Parameters
    ----------
    win : MainWindow
        Its library panel, notices, status bar, :meth:`~MainWindow.submit`,
        :meth:`~MainWindow.open_library` and :meth:`~MainWindow.start_index` are used.

    Attributes
    ----------
    options : FeatureOptions or None
        What the last check found (None before it).
    question : QMessageBox or None
        The "switch features?" question while it is open.
    install_job : JobHandle or None
    install_dialog : QProgressDialog or None
        The installation's progress while it runs.
    """

    def __init__(self, win: Any) -> None:
        self.win = win
        self.options: FeatureOptions | None = None
        self.question: QtWidgets.QMessageBox | None = None
        self.install_job: Any = None
        self.install_dialog: QtWidgets.QProgressDialog | None = None
        win.library_panel.features_requested.connect(self.ask_switch)
        win.library_panel.install_pose_requested.connect(lambda: self.install_pose_models())

    # ------------------------------------------------------------------ what can run

    def refresh_options(self) -> Any:
        """Check (in a job) which features can run here and whether pose is installed."""
        h = self.win.submit("Checking features", options_job())
        h.finished.connect(self._on_options)
        return h

    def _on_options(self, options: FeatureOptions) -> None:
        if self.win.closing:
            return
        self.options = options
        self.win.library_panel.set_feature_options(options)

    def notice_action(self, key: str) -> tuple[str, Any] | None:
        """The button of a notice: "Install models" on the pose notice, if that helps."""
        if key != "pose":
            return None
        from avr_gui.core.features.pose.models import pose_models_status

        if pose_models_status()[0]:
            return None  # the models are there; it is their runtime that is missing
        return ("Install models…", lambda: self.install_pose_models())

    # ------------------------------------------------------------------ switching

    def ask_switch(self, encoder: str) -> bool:
        """Ask, then switch the library to ``encoder`` features (see :meth:`switch`).

        Returns
        -------
        bool
            Whether the switch was started.
        """
        ws = self.win.ws
        if ws.library is None or ws.readonly or encoder == ws.encoder_name:
            return False
        videos = len(ws.entries)
        if videos:
            box = QtWidgets.QMessageBox(
                QtWidgets.QMessageBox.Icon.Question,
                "Switch features",
                reindex_question(ws.encoder_name, encoder, videos),
                QtWidgets.QMessageBox.StandardButton.Yes
                | QtWidgets.QMessageBox.StandardButton.Cancel,
                self.win,
            )
            box.button(QtWidgets.QMessageBox.StandardButton.Yes).setText("Re-index")
            box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
            self.question = box
            try:
                answer = box.exec()
            finally:
                self.question = None
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return False
        self.switch(encoder)
        return True

    def switch(self, encoder: str) -> None:
        """Open the library again with ``encoder`` features and index it all again.

        The query file stays chosen (its matches go: they were found with the old
        features). The run has the panel's progress and cancel; a cancelled run keeps
        what it re-indexed, and the next Index finishes the rest.
        """
        win = self.win
        query = win.ws.query_path
        win.statusBar().showMessage(f"Switching to {label_of(encoder)} features…")
        win.open_library(win.ws.index_dir, encoder, reindex=True)

        def then() -> None:
            win.start_index()
            if query is not None and Path(query).is_file():
                win.set_query(query)

        win.library_opened_then(then)

    # ------------------------------------------------------------------ pose models

    def install_pose_models(self, wheel: str | None = None, folder: str | None = None) -> Any:
        """Install the BlazePose models in a job, with a progress dialog and Cancel.

        Parameters
        ----------
        wheel : str, optional
            A MediaPipe 0.10.21 wheel on disk (default: downloaded with pip).
        folder : str, optional
            Model folder (default: the ``models.dir`` setting, else the user's).

        Returns
        -------
        JobHandle
        """
        if self.install_job is not None and not self.install_job.done:
            if self.install_dialog is not None:
                self.install_dialog.raise_()
            return self.install_job
        win = self.win
        h = win.submit("Installing pose models", install_pose_job(folder, wheel))
        self.install_job = h
        dlg = QtWidgets.QProgressDialog("Installing the body-pose models…", "Cancel", 0, 2, win)
        dlg.setObjectName("installPoseDialog")
        dlg.setWindowTitle("Body-pose models")
        dlg.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumDuration(0)
        dlg.setValue(0)
        dlg.canceled.connect(h.cancel)
        self.install_dialog = dlg
        h.progress.connect(self._on_install_progress)
        h.finished.connect(self._on_installed)
        h.failed.connect(
            lambda exc, tb: win.notices.add(
                "pose-install",
                f"The body-pose models could not be installed: {error_text(exc)}",
                "error",
                max_chars=480,
                action=("Try again", lambda: self.install_pose_models(wheel, folder)),
            )
        )
        h.cancelled.connect(
            lambda: win.statusBar().showMessage("Installing the pose models: cancelled", 8000)
        )
        h.ended.connect(self._on_install_ended)
        dlg.show()
        return h

    def _on_install_progress(self, done: int, total: int, message: str) -> None:
        dlg = self.install_dialog
        if dlg is None:
            return
        if total > 0 and dlg.maximum() != total:
            dlg.setMaximum(total)
        dlg.setValue(min(done, max(total, 0)))
        dlg.setLabelText(f"{message[:1].upper()}{message[1:]}…" if message else "")

    def _on_installed(self, paths: list[Any]) -> None:
        win = self.win
        if win.closing:
            return
        folder = Path(paths[0]).parent if paths else None
        win.notices.dismiss("pose")
        win.notices.dismiss("pose-install")
        text = f"Body-pose models installed in {folder}."
        action = None
        if win.ws.encoder_name not in POSE_MODEL_ENCODERS:
            text += (
                " This library compares clips by "
                f"{label_of(win.ws.encoder_name).lower()}: switch it to automatic features "
                "(re-index) to compare people by how their body moves."
            )
            action = ("Use automatic features…", lambda: self.ask_switch("auto"))
        win.notices.add("pose", text, "info", max_chars=480, action=action)
        win.statusBar().showMessage("Body-pose models installed", 8000)
        self.refresh_options()

    def _on_install_ended(self) -> None:
        if self.install_dialog is not None:
            self.install_dialog.close()
            self.install_dialog.deleteLater()
            self.install_dialog = None
