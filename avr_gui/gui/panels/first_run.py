"""First run: with no library yet, the centre offers the demo library or a folder of videos.

The demo library is the headless demo's (:func:`avr_gui.core.demo.run.run_demo`): a generated
library of a drawn person doing three exercises, indexed and queried once. It is built in
a per-user folder the first time and opened directly afterwards, with this machine's
default encoder (:func:`~avr_gui.core.features.encoders.default_backend`: ``auto``, or
appearance features while the pose models are not installed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

#: The demo's query, relative to the demo folder.
DEMO_QUERY = os.path.join("library", "action0_v00.mp4")
#: Written last by the demo: its presence means the demo ran to the end.
_DEMO_RESULTS = "results.json"


def default_demo_dir() -> str:
    """The per-user folder the demo library is built in."""
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation
    )
    return os.path.join(base or os.path.expanduser("~/.avr-studio"), "demo")


def demo_ready(folder: str | os.PathLike[str], backend: str | None = None) -> bool:
    """Whether ``folder`` holds a finished demo (built with ``backend``, if given).

    Parameters
    ----------
    folder : path-like
    backend : str, optional
        Encoder name the demo must have been built with. ``None``: either default a
        machine may pick (``auto``, or the appearance encoder it falls back to); cheap
        enough for the GUI thread, where :func:`demo_job` checks the exact one.

    Returns
    -------
    bool
    """
    from avr_gui.core.features import APPEARANCE_BACKEND, DEFAULT_BACKEND

    root = Path(folder)
    try:
        results = json.loads((root / _DEMO_RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = (backend,) if backend else (DEFAULT_BACKEND, APPEARANCE_BACKEND)
    if not isinstance(results, dict) or results.get("encoder") not in wanted:
        return False
    return (root / "index" / "catalog.sqlite").is_file() and (root / DEMO_QUERY).is_file()


def demo_job(
    folder: str,
    backend: str | None = None,
    on_fallback: Callable[[str], None] | None = None,
) -> Callable[[Any, Any], str]:
    """A worker job ``fn(progress, cancel) -> folder`` that builds the demo unless ready.

    Parameters
    ----------
    folder : str
        Demo folder (created): clips in ``library/``, the index in ``index/``.
    backend : str, optional
        Frame encoder (``None``: this machine's default, :func:`default_backend`).
    on_fallback : callable, optional
        Told (from the worker thread) why the default is appearance features here.

    Returns
    -------
    callable
    """

    def run(progress: Any, cancel: Any) -> str:
        from avr_gui.core.demo.run import run_demo
        from avr_gui.core.features import default_backend

        name = backend or default_backend(on_fallback=on_fallback)
        if demo_ready(folder, name):
            progress(1, 1, "the demo library is ready")
            return folder
        # A stale result of an earlier build must not vouch for a half-built new one.
        Path(folder, _DEMO_RESULTS).unlink(missing_ok=True)
        run_demo(Path(folder), backend=name, quiet=True, progress=progress, cancel=cancel)
        return folder

    return run


def demo_step(message: str) -> str:
    """A short line for a demo progress message (file paths become 'Indexing NAME').

    Parameters
    ----------
    message : str

    Returns
    -------
    str
    """
    if os.path.isabs(message):
        return f"Indexing {Path(message).name}"
    return message[:1].upper() + message[1:]


class FirstRunPanel(QtWidgets.QWidget):
    """The centre of the window while the library is empty.

    Signals
    -------
    demo_requested()
        "Open the demo library" was clicked.
    add_folder_requested()
        "Add a folder…" was clicked (the window asks for the folder).
    cancel_requested()
        Cancel the demo build.
    """

    demo_requested = QtCore.Signal()
    add_folder_requested = QtCore.Signal()
    cancel_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        title = QtWidgets.QLabel("Welcome to AVR Studio")
        title.setObjectName("welcomeTitle")
        intro = QtWidgets.QLabel(
            "Give it a folder of videos and a query clip: it finds the clips whose action "
            "can be lined up with the query, ranks them by how well they align, and plays "
            "them in sync."
        )
        intro.setWordWrap(True)
        intro.setObjectName("dim")
        self.demo_button = QtWidgets.QPushButton("Open the demo library")
        self.demo_button.setObjectName("primary")
        self.demo_button.setMinimumHeight(36)
        self.demo_button.clicked.connect(self.demo_requested)
        self.demo_note = QtWidgets.QLabel(
            "15 generated clips of a person doing squats, jumping jacks and side raises. "
            "Built once on this computer (about a minute), then opened at once."
        )
        self.demo_note.setWordWrap(True)
        self.demo_note.setObjectName("dim")
        self.folder_button = QtWidgets.QPushButton("Add a folder…")
        self.folder_button.setMinimumHeight(36)
        self.folder_button.clicked.connect(self.add_folder_requested)
        folder_note = QtWidgets.QLabel(
            "Your own videos: every video in the folder (and below it) is indexed; "
            "new and changed files are picked up at the next Index."
        )
        folder_note.setWordWrap(True)
        folder_note.setObjectName("dim")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.step = QtWidgets.QLabel("")
        self.step.setObjectName("dim")
        self.step.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("firstRunMessage")
        self.message.setVisible(False)

        busy = QtWidgets.QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self._busy = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(self._busy)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(busy)
        inner.addWidget(self.step)
        self._busy.setVisible(False)

        card = QtWidgets.QFrame()
        card.setObjectName("welcomeCard")
        card.setMinimumWidth(440)
        card.setMaximumWidth(560)
        v = QtWidgets.QVBoxLayout(card)
        v.setContentsMargins(28, 24, 28, 24)
        v.setSpacing(8)
        v.addWidget(title)
        v.addWidget(intro)
        v.addSpacing(12)
        v.addWidget(self.demo_button)
        v.addWidget(self.demo_note)
        v.addWidget(self._busy)
        v.addSpacing(10)
        v.addWidget(self.folder_button)
        v.addWidget(folder_note)
        v.addSpacing(6)
        v.addWidget(self.message)

        outer = QtWidgets.QGridLayout(self)
        outer.addWidget(card, 1, 1)
        outer.setRowStretch(0, 1)
        outer.setRowStretch(2, 2)
        outer.setColumnStretch(0, 1)
        outer.setColumnStretch(2, 1)

    def set_demo_ready(self, ready: bool) -> None:
        """Say whether the demo is built already (it then opens at once)."""
        if ready:
            self.demo_note.setText(
                "15 generated clips of a person doing squats, jumping jacks and side "
                "raises. Built already: opens at once."
            )

    def set_running(self, running: bool) -> None:
        """The demo is being built (progress and cancel shown, buttons off) or not."""
        self._busy.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.demo_button.setEnabled(not running)
        self.folder_button.setEnabled(not running)
        if running:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.step.setText("Starting…")
            self.show_message("")

    def show_progress(self, done: int, total: int, message: str) -> None:
        """Progress of the current demo step (each step counts on its own)."""
        top = max(int(total), 1)
        if self.progress.maximum() != top:
            self.progress.setRange(0, top)
        self.progress.setValue(min(int(done), top))
        if message:
            self.step.setText(demo_step(message))

    def show_message(self, text: str, error: bool = False) -> None:
        """A line under the buttons (what went wrong, or what happens now)."""
        self.message.setText(text)
        self.message.setProperty("error", bool(error))
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    def set_can_add_folder(self, ok: bool, why: str = "") -> None:
        """Enable "Add a folder…" (off while no library is open; ``why`` says so)."""
        self.folder_button.setEnabled(ok)
        self.folder_button.setToolTip("" if ok else why)
