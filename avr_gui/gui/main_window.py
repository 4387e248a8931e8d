"""The main window: library, query, candidates, alignment view and synced player.

Every library call, query, thumbnail and export runs as a job on :class:`JobRunner`
(library calls on their own one-thread lane); the GUI thread only shows results.
Closing the window cancels every job and waits for it, stops the decoders and closes
the library.

While the library has no videos the centre shows the first-run panel (open the demo
library, or add a folder). Notices above the centre say what the user should know once:
running on the CPU, a weights file that failed and the encoder used instead, body pose
off because its models are not installed (with the command that installs them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.errors import AvrError
from avr_gui.gui import settings as S
from avr_gui.gui.about import show_about
from avr_gui.gui.alignment_view import AlignmentView
from avr_gui.gui.candidates import (
    CandidatesView,
    badge_for,
    make_strips,
    part_text,
    strip_times,
)
from avr_gui.gui.export_actions import (
    KINDS,
    export_job,
    export_unavailable_reason,
    skeleton_export_supported,
)
from avr_gui.gui.first_run import (
    DEMO_QUERY,
    FirstRunPanel,
    default_demo_dir,
    demo_job,
    demo_ready,
)
from avr_gui.gui.library_panel import LibraryPanel, make_thumbnails
from avr_gui.gui.notices import MAX_CHARS, NoticeBar
from avr_gui.gui.player import SyncedPlayer, TimeMap, ViewMode
from avr_gui.gui.query_panel import QueryPanel
from avr_gui.gui.workers import JobHandle, JobRunner

LIB = "library"
#: Export kind the "draw skeletons" option applies to (the two clips side by side).
COMPARISON = "side-by-side"
CPU_NOTICE = (
    "No GPU found: features are computed on the CPU. Everything works the same; "
    "indexing a large library just takes longer."
)
#: Encoders that need the BlazePose models to index videos.
POSE_MODEL_ENCODERS = ("auto", "pose-blazepose", "pose-fused")


def default_index_dir() -> str:
    """Where the library index lives unless the command line says otherwise."""
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation
    )
    return os.path.join(base or os.path.expanduser("~/.avr-studio"), "library")


def index_message(summary) -> str:
    """Status-bar text after indexing (an ``IndexSummary``): what this run did."""
    parts = [f"{summary.encoded} encoded", f"{summary.unchanged} unchanged"]
    if summary.moved:
        parts.append(f"{summary.moved} moved")
    if summary.removed:
        parts.append(f"{summary.removed} removed")
    parts.append(f"{summary.failed} failed")
    return (
        f"Indexed in {summary.seconds:.1f} s: {', '.join(parts)} "
        f"({summary.indexed} of {summary.videos} videos searchable)"
    )


def _matches(n: int) -> str:
    return f"{n} match" if n == 1 else f"{n} matches"


def ranking_caption(result: Any) -> str:
    """The line above the matches: how many, and what they are ranked by.

    Parameters
    ----------
    result : QueryResult

    Returns
    -------
    str
    """
    n = len(result.results)
    if getattr(result, "query_performer", None):
        how = "ranked by pose similarity (higher = better)"
    else:
        how = "ranked by score (lower = better)"
    return f"{_matches(n)}, {how}; click to inspect"


def query_message(result: Any) -> str:
    """The query panel's line after a query: matches, query frames and their span.

    (What the query was matched by is the tag beside its name.)

    Parameters
    ----------
    result : QueryResult

    Returns
    -------
    str
    """
    ts = result.query.timestamps
    n = len(result.results)
    return f"{_matches(n)} for {len(ts)} query frames ({ts[0]:.2f}–{ts[-1]:.2f} s)"


def pose_notice(
    encoder_name: str | None,
    models: tuple[bool, str],
    fallback: str | None = None,
    new_backend: str | None = None,
) -> tuple[str, str] | None:
    """The notice about body pose being off here, for a library just opened.

    Parameters
    ----------
    encoder_name : str or None
        The library's encoder; None for a new library (it gets ``new_backend``).
    models : (bool, str)
        :func:`~avr_gui.core.features.pose.models.pose_models_status`: whether the pose
        models are usable, and one line saying so (with the install command if not).
    fallback : str, optional
        What :func:`~avr_gui.core.features.encoders.default_backend` said when it chose
        appearance features for a new library.
    new_backend : str, optional
        The encoder a new library gets.

    Returns
    -------
    (str, str) or None
        Notice text and level (``"warning"`` or ``"info"``); None while pose works here.
    """
    ok, status = models
    if ok and fallback is None:
        return None
    if ok:  # models there, but pose cannot run (its runtime is missing)
        assert fallback is not None
        return f"{fallback[:1].upper()}{fallback[1:]}.", "warning"
    line = f"{status[:1].upper()}{status[1:]}."
    if encoder_name is None and new_backend and new_backend not in POSE_MODEL_ENCODERS:
        return (
            f"{line} This new library will use appearance features ({new_backend}): "
            "install the models before indexing to compare people by body pose.",
            "warning",
        )
    if encoder_name in POSE_MODEL_ENCODERS:
        return (
            f"{line} This library's {encoder_name} features need them to index new videos "
            "and to query files from outside it.",
            "warning",
        )
    return line, "info"


def _error_text(exc: object) -> str:
    if isinstance(exc, AvrError):
        return str(exc)
    return f"unexpected error: {type(exc).__name__}: {exc}"


class MainWindow(QtWidgets.QMainWindow):
    """AVR Studio's window.

    Parameters
    ----------
    index_dir : str, optional
        Library index folder (default :func:`default_index_dir`).
    backend : str, optional
        Frame encoder for a new index (``thumb16``, ``effnet-lite0``, ...); ``None``:
        the index's own, or the project default for a new one.
    settings : QSettings, optional
        Window-state store (tests pass a temporary INI file).
    weights : str, optional
        Model or weights file for ``backend``; if it cannot be loaded, a notice says why
        and which encoder is used instead.
    demo_dir : str, optional
        Where "Open the demo library" builds the demo (default :func:`default_demo_dir`).
    demo_backend : str, optional
        Frame encoder of the demo library (default: the demo's own, the product default).
    """

    def __init__(
        self,
        index_dir: str | None = None,
        backend: str | None = None,
        settings: QtCore.QSettings | None = None,
        *,
        weights: str | None = None,
        demo_dir: str | None = None,
        demo_backend: str | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("AvrStudioMain")
        self.setWindowTitle(f"AVR Studio {__version__}")
        self.index_dir = index_dir or default_index_dir()
        self.backend = backend
        self.weights = weights
        # The user's own library, to come back to from the demo.
        self.home = (self.index_dir, backend, weights)
        self.demo_dir = demo_dir or default_demo_dir()
        self.demo_backend = demo_backend
        self.settings = settings if settings is not None else S.open_settings()
        self.runner = JobRunner(threads=2, parent=self)
        self.library: Any = None
        self.encoder_name: str | None = None
        self.device: str | None = None
        self.entries: list[Any] = []
        self.result: Any = None
        self.match: Any = None
        self.query_path: str | None = None
        self.query_pose: Any = None
        self.poses: dict[str, Any] = {}
        self.last_error: str | None = None
        self.index_job: JobHandle | None = None
        self.query_job: JobHandle | None = None
        self.demo_job: JobHandle | None = None
        self._library_empty = False
        self._pose_noticed = False
        self._closing = False
        self._on_open: list = []
        self._build()
        self._restore()
        self._open_library()

    # ------------------------------------------------------------------ layout

    def _dock(
        self, title: str, name: str, widget: QtWidgets.QWidget, area
    ) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build(self) -> None:
        A = QtCore.Qt.DockWidgetArea
        self.library_panel = LibraryPanel()
        self.query_panel = QueryPanel()
        self.candidates = CandidatesView()
        self.alignment = AlignmentView()
        self.player = SyncedPlayer()

        self.first_run = FirstRunPanel()
        self.first_run.set_demo_ready(demo_ready(self.demo_dir, self.demo_backend))
        self.notices = NoticeBar()

        workspace = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(workspace)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(self.query_panel)
        v.addWidget(self.player, 1)
        self.workspace = workspace
        self.center = QtWidgets.QStackedWidget()
        self.center.addWidget(workspace)
        self.center.addWidget(self.first_run)
        central = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(self.notices)
        v.addWidget(self.center, 1)
        self.setCentralWidget(central)
        self.library_dock = self._dock(
            "Library", "libraryDock", self.library_panel, A.LeftDockWidgetArea
        )
        self.candidates_dock = self._dock(
            "Matches", "candidatesDock", self.candidates, A.BottomDockWidgetArea
        )
        self.alignment_dock = self._dock(
            "Alignment", "alignmentDock", self.alignment, A.RightDockWidgetArea
        )

        # First run
        fr = self.first_run
        fr.demo_requested.connect(self.open_demo)
        fr.add_folder_requested.connect(self.library_panel._choose_folder)
        fr.cancel_requested.connect(self.cancel_demo)
        # Library panel
        lp = self.library_panel
        lp.add_folder_requested.connect(self.add_folder)
        lp.remove_folder_requested.connect(self.remove_folder)
        lp.index_requested.connect(self.start_index)
        lp.cancel_requested.connect(self.cancel_index)
        lp.use_as_query.connect(self.set_query)
        # Query
        qp = self.query_panel
        qp.query_chosen.connect(self._on_query_chosen)
        qp.run_requested.connect(self.run_query)
        qp.cancel_requested.connect(self.cancel_query)
        # Candidates, alignment, player
        self.candidates.selected.connect(self.select_match)
        self.alignment.cell_clicked.connect(lambda i, j, qt, mt: self.player.show_pair(qt, mt))
        self.alignment.path_changed.connect(self._on_path_changed)
        self.player.position_changed.connect(self.alignment.set_cursor)
        self.player.in_point_requested.connect(qp.set_in)
        self.player.out_point_requested.connect(qp.set_out)
        self.player.error.connect(lambda m: self.statusBar().showMessage(m, 8000))
        # A damaged clip is said once per load ("query: damaged: plays to 5.3 s of 10 s").
        self.player.notice.connect(lambda m: self.statusBar().showMessage(m, 10000))

        self._build_actions()
        self.status_jobs = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_jobs)
        self.status_version = QtWidgets.QLabel(f"AVR Studio {__version__}")
        self.status_version.setObjectName("statusVersion")
        self.statusBar().addPermanentWidget(self.status_version)
        self.statusBar().showMessage("Opening the library…")

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        a = QtGui.QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        self.open_action = self._action("&Open query…", self.query_panel._open, K.Open)
        self.add_folder_action = self._action(
            "&Add folder to library…", self.library_panel._choose_folder
        )
        self.index_action = self._action("&Index library", self.start_index, "Ctrl+I")
        self.run_action = self._action("&Find matches", self.query_panel._run, "Ctrl+Return")
        self.quit_action = self._action("&Quit", self.close, K.Quit)
        self.about_action = self._action(
            "&About AVR Studio", lambda: show_about(self, self.encoder_name)
        )
        self.demo_action = self._action(
            "Open the &demo library", self.open_demo, tip="Build (once) and open a demo library"
        )
        self.skeleton_export_action = QtGui.QAction("Draw skeletons in the side-by-side", self)
        self.skeleton_export_action.setCheckable(True)
        self.skeleton_export_action.setChecked(True)
        self._skeleton_export_ok = skeleton_export_supported()
        reason = export_unavailable_reason()
        self.export_actions: dict[str, QtGui.QAction] = {}
        for label, kind, filt in KINDS:
            act = self._action(label, lambda _=False, k=kind, f=filt: self.export(k, f))
            act.setEnabled(False)
            act.setToolTip(reason or "Select a match first")
            self.export_actions[kind] = act
        self._export_reason = reason

        file_menu = self.menuBar().addMenu("&File")
        for a in (self.open_action, self.add_folder_action, self.index_action, self.run_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("&Export")
        export_menu.setToolTipsVisible(True)
        for a in self.export_actions.values():
            export_menu.addAction(a)
        export_menu.addSeparator()
        export_menu.addAction(self.skeleton_export_action)
        self._update_skeleton_export()
        file_menu.addSeparator()
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for dock in (self.library_dock, self.candidates_dock, self.alignment_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        for mode in ViewMode:
            view_menu.addAction(
                self._action(mode.value, lambda _=False, m=mode: self.player.set_mode(m))
            )
        self.menuBar().addMenu("&Help").addAction(self.about_action)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.addAction(self.open_action)
        tb.addAction(self.add_folder_action)
        tb.addAction(self.index_action)
        tb.addAction(self.run_action)
        tb.addSeparator()
        for a in self.export_actions.values():
            tb.addAction(a)

    # ------------------------------------------------------------------ settings

    def _restore(self) -> None:
        if not S.restore_window(self.settings, self):
            self.resize(1360, 860)
            # Dock sizes apply once the window has its real size.
            QtCore.QTimer.singleShot(0, self._default_dock_sizes)
        mode = S.ui_value(self.settings, "mode", ViewMode.SIDE_BY_SIDE.value, str)
        for m in ViewMode:
            if m.value == mode:
                self.player.set_mode(m)
        self.player.loop_box.setChecked(bool(S.ui_value(self.settings, "loop", True, bool)))
        speed = int(S.ui_value(self.settings, "speed_index", self.player.speed.currentIndex(), int))
        if 0 <= speed < self.player.speed.count():
            self.player.speed.setCurrentIndex(speed)
        self.player.skeleton_box.setChecked(bool(S.ui_value(self.settings, "skeleton", True, bool)))

    def _default_dock_sizes(self) -> None:
        H, V = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
        self.resizeDocks([self.library_dock, self.alignment_dock], [290, 430], H)
        self.resizeDocks([self.candidates_dock], [240], V)

    def _save(self) -> None:
        S.save_window(
            self.settings,
            self,
            {
                "mode": self.player.canvas.mode.value,
                "loop": self.player.loop_box.isChecked(),
                "speed_index": self.player.speed.currentIndex(),
                "skeleton": self.player.skeleton_box.isChecked(),
            },
        )

    # ------------------------------------------------------------------ jobs

    def _submit(self, name: str, fn, *, lane: str = "default") -> JobHandle:
        handle = self.runner.submit(name, fn, lane=lane)
        handle.failed.connect(lambda exc, tb, n=name: self._job_failed(n, exc, tb))
        handle.ended.connect(self._update_job_status)
        self._update_job_status()
        return handle

    def _job_failed(self, name: str, exc: object, tb: str) -> None:
        self.last_error = f"{name}: {_error_text(exc)}"
        self.statusBar().showMessage(self.last_error, 15000)
        if not isinstance(exc, AvrError):
            print(tb)  # a bug, not bad input: keep the traceback for the report

    def _update_job_status(self) -> None:
        if self._closing:
            return
        names = [h.name for h in self.runner.active if not h.done]
        self.status_jobs.setText(" · ".join(names))

    # ------------------------------------------------------------------ library

    def _open_library(self) -> JobHandle:
        index_dir, backend, weights = self.index_dir, self.backend, self.weights
        h = self._submit(
            "Opening library", lambda p, c: _open(index_dir, backend, weights), lane=LIB
        )
        h.finished.connect(self._on_library_opened)
        h.failed.connect(self._on_library_failed)
        return h

    def _on_library_opened(self, result) -> None:
        lib, snap, notes, device = result
        if self._closing:
            lib.close()
            return
        self.library = lib
        self.encoder_name = lib.encoder_name or self.backend
        if getattr(lib, "readonly", False):
            self.first_run.set_can_add_folder(False, "This library is read-only here")
        else:
            self.first_run.set_can_add_folder(True)
        self._show_device(device)
        for key, text, level in notes:
            if key == "pose":
                # Said once per window: reopening a library does not bring it back.
                if self._pose_noticed:
                    continue
                self._pose_noticed = True
            # The pose notice's middle is the command that installs the models: keep it.
            self.notices.add(key, text, level, max_chars=640 if key == "pose" else MAX_CHARS)
        self._show_snapshot(snap)
        self.library_dock.setWindowTitle("Library (demo)" if self.showing_demo else "Library")
        self.statusBar().showMessage(f"Library: {self.index_dir}", 5000)
        callbacks, self._on_open = self._on_open, []
        for cb in callbacks:
            cb()

    def _on_library_failed(self, exc: object, tb: str) -> None:
        self._on_open = []  # what waited for this library will not happen
        self._library_empty = True
        self.first_run.set_can_add_folder(False, "The library could not be opened")
        self.first_run.show_message(
            f"The library in {self.index_dir} could not be opened: {_error_text(exc)}",
            error=True,
        )
        self._update_center()

    def _show_device(self, device: str | None) -> None:
        if device is None:
            return
        self.device = device
        shown = "CPU" if device == "cpu" else f"GPU ({device})"
        self.status_version.setText(f"AVR Studio {__version__} · {shown}")
        self.status_version.setToolTip(f"Features are computed on: {device}")
        if device == "cpu" and S.first_time(self.settings, "cpu_notice"):
            self.notices.add("device", CPU_NOTICE, "info")

    def open_library(
        self, index_dir: str, backend: str | None = None, weights: str | None = None
    ) -> JobHandle:
        """Close the current library and open the one in ``index_dir``.

        Parameters
        ----------
        index_dir : str
        backend : str, optional
            Encoder for a new index (``None``: the index's own, or the default).
        weights : str, optional
            Model file for ``backend``.
        """
        for job in (self.index_job, self.query_job):
            if job is not None:
                job.cancel()
        old, self.library = self.library, None
        self.index_dir, self.backend, self.weights = str(index_dir), backend, weights
        self._clear_results()
        if old is not None:
            # On the library lane: after whatever still uses the old library.
            self._submit("Closing library", lambda p, c: old.close(), lane=LIB)
        self.statusBar().showMessage(f"Opening {index_dir}…")
        return self._open_library()

    @property
    def showing_demo(self) -> bool:
        """Whether the open library is the demo's."""
        return Path(self.index_dir) == Path(self.demo_dir) / "index"

    def _clear_results(self) -> None:
        self.result = None
        self.query_path = None
        self.query_pose = None
        self.poses = {}
        self.candidates.set_matches([], "Run a query to see ranked matches")
        self.select_match(None)
        self.player.clear()
        self.query_panel.clear()
        self.setWindowTitle(f"AVR Studio {__version__}")

    def library_opened_then(self, callback) -> None:
        """Call ``callback()`` once the library is open (now, if it already is)."""
        if self.library is not None:
            callback()
        else:
            self._on_open.append(callback)

    # ------------------------------------------------------------------ first run

    @property
    def first_run_visible(self) -> bool:
        """Whether the centre shows the first-run panel."""
        return self.center.currentWidget() is self.first_run

    def _update_center(self) -> None:
        building = self.demo_job is not None and not self.demo_job.done
        welcome = building or (self._library_empty and self.query_path is None)
        self.center.setCurrentWidget(self.first_run if welcome else self.workspace)

    def open_demo(self) -> JobHandle | None:
        """Build the demo library (once), open it and query it with its demo clip."""
        if self.demo_job is not None and not self.demo_job.done:
            return self.demo_job
        fr = self.first_run
        h = self._submit("Building the demo library", demo_job(self.demo_dir, self.demo_backend))
        self.demo_job = h
        self._update_center()  # the centre follows the demo while it is built
        fr.set_running(True)
        self.demo_action.setEnabled(False)
        h.progress.connect(fr.show_progress)
        h.finished.connect(self._on_demo_built)
        h.cancelled.connect(lambda: fr.show_message("Cancelled: the demo library was not opened."))
        h.failed.connect(
            lambda exc, tb: fr.show_message(
                f"The demo library could not be built: {_error_text(exc)}", error=True
            )
        )
        h.ended.connect(self._on_demo_ended)
        return h

    def _on_demo_ended(self) -> None:
        self.first_run.set_running(False)
        self.demo_action.setEnabled(True)
        self._update_center()

    def cancel_demo(self) -> None:
        """Stop building the demo library."""
        if self.demo_job is not None:
            self.demo_job.cancel()

    def _on_demo_built(self, folder: str) -> None:
        if self._closing:
            return
        self.first_run.set_demo_ready(True)
        self.first_run.show_message("Opening the demo library…")
        query = os.path.join(folder, DEMO_QUERY)
        self.open_library(os.path.join(folder, "index"))
        self._library_empty = True  # the welcome stays up until the demo library shows
        self.library_opened_then(lambda: self._query_demo(query))

    def _query_demo(self, query: str) -> None:
        self.first_run.show_message("")
        self.set_query(query)
        self.run_query(query, None)

    def _show_snapshot(self, snap: tuple) -> None:
        folders, entries, status, encoder = snap
        self.entries = entries
        self._library_empty = not entries
        self._update_center()
        self.library_panel.show_state(folders, entries, status, encoder)
        missing = self.library_panel.missing_thumbnails(entries)
        if missing:
            h = self._submit("Thumbnails", lambda p, c: make_thumbnails(missing, p, c))
            h.finished.connect(self.library_panel.set_thumbnails)

    def refresh_library(self) -> JobHandle | None:
        """Re-read folders, videos and failures from the library."""
        if self.library is None:
            return None
        lib = self.library
        h = self._submit("Reading library", lambda p, c: _snapshot(lib), lane=LIB)
        h.finished.connect(self._show_snapshot)
        return h

    def add_folder(self, folder: str) -> None:
        """Add a folder to the library and index it (the user's library, never the demo)."""
        if self.showing_demo and Path(self.home[0]) != Path(self.index_dir):
            self.statusBar().showMessage("Back to your own library to add the folder", 8000)
            self.open_library(*self.home)
            self.library_opened_then(lambda: self.add_folder(folder))
            return
        if self.library is None:
            return
        lib = self.library

        def job(progress, cancel):
            lib.add_folder(folder)
            return _snapshot(lib)

        h = self._submit("Adding folder", job, lane=LIB)
        h.finished.connect(self._show_snapshot)
        h.finished.connect(lambda _: self.start_index())

    def remove_folder(self, folder: str) -> None:
        """Remove a folder (its videos leave the library)."""
        if self.library is None:
            return
        lib = self.library

        def job(progress, cancel):
            lib.remove_folder(folder)
            return _snapshot(lib)

        self._submit("Removing folder", job, lane=LIB).finished.connect(self._show_snapshot)

    def start_index(self) -> JobHandle | None:
        """Index the library in the background (progress and cancel in the panel)."""
        if self.library is None or (self.index_job is not None and not self.index_job.done):
            return self.index_job
        lib = self.library

        def job(progress, cancel):
            summary = lib.index(progress=progress, cancel=cancel)
            return summary, _snapshot(lib)

        h = self._submit("Indexing", job, lane=LIB)
        self.index_job = h
        self.library_panel.set_busy(True)
        self.index_action.setEnabled(False)
        h.progress.connect(self.library_panel.show_progress)
        h.finished.connect(self._on_indexed)
        h.cancelled.connect(lambda: self.statusBar().showMessage("Indexing cancelled", 5000))
        h.ended.connect(self._on_index_ended)
        return h

    def _on_indexed(self, result) -> None:
        summary, snap = result
        self._show_snapshot(snap)
        self.statusBar().showMessage(index_message(summary), 8000)

    def _on_index_ended(self) -> None:
        self.library_panel.set_busy(False)
        self.index_action.setEnabled(True)
        if not self._closing:
            self.refresh_library()

    def cancel_index(self) -> None:
        """Stop indexing at the next file boundary (what was indexed stays)."""
        if self.index_job is not None:
            self.index_job.cancel()

    # ------------------------------------------------------------------ query

    def set_query(self, path: str) -> None:
        """Make ``path`` the query (as if opened or dropped)."""
        self.query_panel.set_query(path)

    def _on_query_chosen(self, path: str) -> None:
        self.query_path = path
        self.query_pose = None
        self._update_center()
        self.setWindowTitle(f"AVR Studio {__version__} — {Path(path).name}")
        self.player.load(path)
        self._load_query_pose(path)
        known = {e.path: e.duration for e in self.entries}
        if path in known and known[path] > 0:
            self.query_panel.set_duration(known[path])
            return

        def job(progress, cancel):
            from avr_gui.core.video import probe

            return probe(path).duration_s

        h = self._submit("Reading query", job)
        h.finished.connect(
            lambda d, p=path: self.query_panel.set_duration(d) if p == self.query_path else None
        )
        h.failed.connect(
            lambda exc, tb: self.query_panel.message.setText(f"Cannot use this file: {exc}")
        )

    def _load_query_pose(self, path: str) -> None:
        """Show the stored skeleton of a library clip chosen as the query, if any."""
        lib = self.library
        if lib is None or not hasattr(lib, "pose_track"):
            return
        h = self._submit("Reading pose", lambda p, c: _pose_tracks(lib, [path]).get(path), lane=LIB)
        h.finished.connect(lambda track, q=path: self._on_query_pose(q, track))

    def _on_query_pose(self, path: str, track) -> None:
        if track is None or path != self.query_path or self.match is not None:
            return
        self.query_pose = track
        self.player.set_poses(track, None)

    def run_query(self, path: str, trim) -> JobHandle | None:
        """Search the library for ``path`` (``trim``: (in, out) seconds or None)."""
        if self.library is None:
            self.query_panel.message.setText("The library is still opening")
            return None
        if self.query_job is not None and not self.query_job.done:
            return self.query_job
        lib = self.library

        def job(progress, cancel):
            result = lib.query(path, trim=trim, top=10, progress=progress, cancel=cancel)
            wanted = [str(m.path) for m in result.results]
            if getattr(result, "query_pose", None) is None and result.query_path:
                wanted.append(str(result.query_path))
            return result, _pose_tracks(lib, wanted)

        h = self._submit("Finding matches", job, lane=LIB)
        self.query_job = h
        self.query_panel.set_busy(True)
        self.query_panel.message.setText("Finding matches…")
        h.progress.connect(self.query_panel.show_progress)
        h.finished.connect(self._on_query_done)
        h.failed.connect(
            lambda exc, tb: self.query_panel.message.setText(f"Query failed: {_error_text(exc)}")
        )
        self.query_panel.set_matched_by(None)
        h.cancelled.connect(lambda: self.query_panel.message.setText("Query cancelled"))
        h.ended.connect(lambda: self.query_panel.set_busy(False))
        return h

    def cancel_query(self) -> None:
        """Stop the running query."""
        if self.query_job is not None:
            self.query_job.cancel()

    def _on_query_done(self, payload) -> None:
        result, poses = payload
        self.result = result
        self.poses = poses
        self.query_pose = getattr(result, "query_pose", None)
        if self.query_pose is None:
            self.query_pose = poses.get(str(result.query_path))
        matches = list(result.results)
        self.query_panel.message.setText(query_message(result))
        self.query_panel.set_matched_by(getattr(result, "query_performer", None))
        self.candidates.set_matches(matches, ranking_caption(result))
        rows = [(str(m.path), strip_times(m)) for m in matches]
        if rows:
            h = self._submit("Match previews", lambda p, c: make_strips(rows, p, c))
            h.finished.connect(self.candidates.model.set_strips)
            # Next loop iteration: the table paints first, then the best match loads,
            # so no single stretch of GUI-thread work holds up input.
            QtCore.QTimer.singleShot(0, self._select_best)
        else:
            self.alignment.clear()

    def _select_best(self) -> None:
        if not self._closing and self.candidates.model.rowCount():
            self.candidates.select_view_row(0)

    # ------------------------------------------------------------------ a match

    def select_match(self, match) -> None:
        """Show ``match`` in the alignment view and the player."""
        self.match = match
        for act in self.export_actions.values():
            act.setEnabled(match is not None and self._export_reason is None)
            act.setToolTip(self._export_reason or act.text().rstrip("…"))
        self._update_skeleton_export()
        if match is None or self.result is None:
            self.alignment.clear()
            return
        al = match.alignment
        q_ts = np.asarray(self.result.query.timestamps, dtype=np.float64)
        m_ts = np.asarray(match.features.timestamps, dtype=np.float64)
        if al.cost is not None:
            self.alignment.set_alignment(al.cost, al.path, q_ts, m_ts, match_title(match))
        else:
            self.alignment.clear()
        query = self.query_path or self.result.query_path
        self.player.load(query, str(match.path), TimeMap.from_path(al.path, q_ts, m_ts))
        self.player.set_poses(self.query_pose, self.match_pose)

    @property
    def match_pose(self) -> Any:
        """Landmark track of the selected match (``None`` without one)."""
        return None if self.match is None else self.poses.get(str(self.match.path))

    def _update_skeleton_export(self) -> None:
        act = self.skeleton_export_action
        if not self._skeleton_export_ok:
            why = "This build's export cannot draw skeletons yet"
        elif self.match is None:
            why = "Select a match first"
        elif self.query_pose is None or self.match_pose is None:
            why = "Both clips need a tracked person (a library indexed with a pose encoder)"
        else:
            why = ""
        act.setEnabled(not why)
        act.setToolTip(why or "Draw each clip's skeleton on its frames in the side-by-side export")

    def _on_path_changed(self, path) -> None:
        if self.match is None or self.result is None:
            return
        self.player.set_time_map(
            TimeMap.from_path(path, self.result.query.timestamps, self.match.features.timestamps)
        )

    # ------------------------------------------------------------------ export

    def export(self, kind: str, file_filter: str, out: str | None = None) -> JobHandle | None:
        """Export the selected pair (asks for a file name unless ``out`` is given)."""
        if self.match is None or self.result is None or self._export_reason is not None:
            return None
        if out is None:
            suffix = ".json" if kind == "map" else ".mp4"
            start = str(
                Path(self.match.path).with_name(Path(self.match.path).stem + "_" + kind + suffix)
            )
            out, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export", start, file_filter)
            if not out:
                return None
        path = self.alignment.path if self.alignment.path is not None else self.match.alignment.path
        act = self.skeleton_export_action
        skeletons = kind == COMPARISON and act.isEnabled() and act.isChecked()
        fn = export_job(
            kind,
            self.query_path or self.result.query_path,
            str(self.match.path),
            path,
            self.result.query.timestamps,
            self.match.features.timestamps,
            out,
            query_pose=self.query_pose if skeletons else None,
            match_pose=self.match_pose if skeletons else None,
        )
        h = self._submit("Exporting", fn)
        h.progress.connect(lambda d, t, m: self.statusBar().showMessage(f"Exporting {d}/{t} {m}"))
        h.finished.connect(lambda p: self.statusBar().showMessage(f"Wrote {p}", 10000))
        return h

    # ------------------------------------------------------------------ keys and closing

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        # Transport keys work wherever focus is, unless a widget used them first.
        self.player.keyPressEvent(event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._closing = True
        self._save()
        self.player.close_sources()
        self.runner.shutdown()
        if self.library is not None:
            self.library.close()
            self.library = None
        super().closeEvent(event)


def match_title(match: Any) -> str:
    """The alignment view's title for a match: what it is, then the numbers.

    Parameters
    ----------
    match : Match

    Returns
    -------
    str
        Three lines (the dock is narrow): rank, name, verdict and aligned part; DRAQ
        and DTW cost per step; similarity.
    """
    badge, _ = badge_for(getattr(match, "alignable", None), float(match.draq))
    head = f"#{match.rank} {Path(match.path).name}"
    if not badge.startswith("DRAQ"):
        head += f" — {badge}"
    mode = getattr(match, "mode", "full") or "full"
    if mode != "full":
        part, _ = part_text(
            mode, getattr(match, "query_span_s", None), getattr(match, "match_span_s", None)
        )
        head += f" · {part}"
    sim = "pose similarity" if getattr(match, "compared_on", None) == "pose" else "similarity"
    return (
        f"{head}\nDRAQ {match.draq:.3f} · DTW cost {match.normalized_cost:.3f}/step\n"
        f"{sim} {match.similarity:.3f}"
    )


def _snapshot(lib) -> tuple[list[str], list[Any], Any, str | None]:
    """Folders, entries, status and encoder name of ``lib`` (runs on the library lane)."""
    return [str(f) for f in lib.folders], lib.entries(), lib.status(), lib.encoder_name


def _open(
    index_dir: str, backend: str | None, weights: str | None
) -> tuple[Any, tuple, list[tuple[str, str, str]], str | None]:
    """Open a library (worker job): the library, its snapshot, notices and the device.

    A backend or weights file that cannot be loaded, or a backend other than the one an
    existing index holds, does not stop the library from opening: the library keeps (or
    gets) an encoder that works, and a notice says why and which.
    """
    from avr_gui.core.device import resolve_device
    from avr_gui.core.errors import DeviceError
    from avr_gui.core.features import default_backend, get_encoder
    from avr_gui.core.features.pose.models import pose_models_status
    from avr_gui.core.library import EncoderMismatchError, Library

    notes: list[tuple[str, str, str]] = []
    encoder = None
    failed: str | None = None
    if backend:

        def fell_back(message: str) -> None:
            notes.append(("encoder", f"{message}.", "warning"))

        try:
            encoder = get_encoder(backend, weights=weights, on_fallback=fell_back)
        except AvrError as exc:
            failed = f"The {backend} encoder could not be loaded: {exc}"
    readonly = (Path(index_dir) / "catalog.sqlite").is_file() and not os.access(index_dir, os.W_OK)
    if readonly:
        # A library on a read-only mount (a shared drive, an archive disc) can still be
        # searched and played; indexing it is refused with a clear message.
        lib = Library.open(index_dir, readonly=True)
        notes.append(
            (
                "library",
                "This library is read-only here: you can search, play and export, but not "
                "index or add folders.",
                "info",
            )
        )
        return lib, _snapshot(lib), notes, None
    try:
        lib = Library.open(index_dir, encoder=encoder)
    except EncoderMismatchError:
        lib = Library.open(index_dir)
        assert encoder is not None  # only a given encoder can mismatch
        if lib.status().indexed == 0:
            # Nothing indexed yet, so nothing to lose: take the encoder asked for.
            lib.close()
            lib = Library.open(index_dir, encoder=encoder, reindex=True)
        else:
            notes.append(
                (
                    "encoder",
                    f"This library holds {lib.encoder_name} features and keeps that encoder; "
                    f"{encoder.name} is not used. To switch, re-index it: "
                    f"avr index --index {index_dir} --reindex --backend {backend}.",
                    "warning",
                )
            )
    fallback: list[str] = []
    # A new library gets this machine's default: `auto`, or appearance features when
    # body pose cannot run here (the pose notice says why and what to do).
    new_backend = default_backend(on_fallback=fallback.append) if lib.encoder_name is None else None
    if failed is not None:
        used = lib.encoder_name or new_backend
        notes.append(("encoder", f"{failed}. Using {used} instead.", "warning"))
    pose = pose_notice(
        lib.encoder_name, pose_models_status(), fallback[0] if fallback else None, new_backend
    )
    if pose is not None:
        notes.append(("pose", *pose))
    try:
        device: str | None = resolve_device()
    except DeviceError as exc:
        device = None
        notes.append(("device", str(exc), "error"))
    return lib, _snapshot(lib), notes, device


def _pose_tracks(lib, paths: list[str]) -> dict[str, Any]:
    """Stored landmark tracks of ``paths`` (worker job; paths without one are left out)."""
    if not hasattr(lib, "pose_track"):  # a library core from before pose tracks
        return {}
    out: dict[str, Any] = {}
    for path in paths:
        try:
            track = lib.pose_track(path)
        except AvrError:
            continue
        if track is not None:
            out[path] = track
    return out
