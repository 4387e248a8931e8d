"""The main window: presents a :class:`~avr_gui.core.workspace.Workspace`.

The workspace model holds the state and the rules (which library, query and match; what
a new query does to the matches; which encoder a library gets; what an export writes).
This window builds the panels, runs the model's jobs on :class:`JobRunner` (library
calls on their own one-thread lane) and, subscribed to the model, shows what changed.
Closing the window cancels every job and waits for it, stops the decoders and closes
the library.

While the library has no videos the centre shows the first-run panel (open the demo
library, or add a folder). Notices above the centre say what the user should know once:
running on the CPU, a weights file that failed and the encoder used instead, body pose
off because its models are not installed (with the command that installs them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui import __version__
from avr_gui.core.config import Config
from avr_gui.core.workspace import NotReady, OpenedLibrary, Workspace
from avr_gui.core.workspace.labels import error_text, index_message
from avr_gui.gui import settings as S
from avr_gui.gui.export_dialog import ExportDialog, open_pair_export
from avr_gui.gui.feature_actions import FeatureActions
from avr_gui.gui.fullscreen import FullScreen
from avr_gui.gui.menus import build_menus
from avr_gui.gui.panels.alignment_view import AlignmentView
from avr_gui.gui.panels.candidates import CandidatesView
from avr_gui.gui.panels.first_run import (
    DEMO_QUERY,
    FirstRunPanel,
    default_demo_dir,
    demo_job,
    demo_ready,
)
from avr_gui.gui.panels.library_panel import LibraryPanel
from avr_gui.gui.panels.notices import MAX_CHARS, NoticeBar
from avr_gui.gui.panels.query_panel import QueryPanel
from avr_gui.gui.player import SyncedPlayer, ViewMode
from avr_gui.gui.presenter import LIB, Presenter
from avr_gui.gui.workers import JobHandle, JobRunner

# Measured on an H200 (docs/RESULTS.md): the default features index no faster with the
# GPU, since their pose models run on the CPU; appearance-only indexing 1.4x faster.
CPU_NOTICE = (
    "No GPU found: everything runs on the CPU, as body-pose features do on every "
    "machine. A GPU would speed up appearance features only."
)


def default_index_dir() -> str:
    """Where the library index lives unless the command line says otherwise."""
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation
    )
    return os.path.join(base or os.path.expanduser("~/.avr-studio"), "library")


def _from_workspace(name: str, doc: str) -> Any:
    """A read-only window attribute that is the workspace's (scripts and tests read it)."""
    return property(lambda self: getattr(self.ws, name), doc=doc)


class MainWindow(QtWidgets.QMainWindow):
    """AVR Studio's window.

    Parameters
    ----------
    index_dir : str, optional
        Library index folder (default :func:`default_index_dir`).
    backend : str, optional
        Frame encoder for a new index (``thumb16``, ``effnet-lite0``, ...); ``None``:
        the index's own, or the ``features.encoder`` setting for a new one.
    settings : QSettings, optional
        Window-state store (tests pass a temporary INI file).
    weights : str, optional
        Model or weights file for ``backend``; if it cannot be loaded, a notice says why
        and which encoder is used instead.
    demo_dir : str, optional
        Where "Open the demo library" builds the demo (default :func:`default_demo_dir`).
    demo_backend : str, optional
        Frame encoder of the demo library (default: the demo's own, the product default).
    config : Config, optional
        The settings, read once at start (default: read now, or the shipped defaults).
    """

    library = _from_workspace("library", "The open library (None while it opens).")
    entries = _from_workspace("entries", "The library's videos, as last read.")
    result = _from_workspace("result", "The last query's ``QueryResult``.")
    match = _from_workspace("match", "The selected match.")
    query_path = _from_workspace("query_path", "The query file.")
    query_pose = _from_workspace("query_pose", "The query's landmark track, if any.")
    match_pose = _from_workspace("match_pose", "The selected match's landmark track.")
    last_error = _from_workspace("last_error", "The last job failure, as shown.")
    encoder_name = _from_workspace("encoder_name", "The library's encoder.")
    device = _from_workspace("device", "Where features are computed.")
    index_dir = _from_workspace("index_dir", "The open library's index folder.")
    home = _from_workspace("home", "The user's own library: (index_dir, backend, weights).")

    def __init__(
        self,
        index_dir: str | None = None,
        backend: str | None = None,
        settings: QtCore.QSettings | None = None,
        *,
        weights: str | None = None,
        demo_dir: str | None = None,
        demo_backend: str | None = None,
        config: Config | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("AvrStudioMain")
        self.setWindowTitle(f"AVR Studio {__version__}")
        self.ws = Workspace(index_dir or default_index_dir(), backend, weights, config=config)
        self.demo_dir = demo_dir or default_demo_dir()
        self.demo_backend = demo_backend
        self.settings = settings if settings is not None else S.open_settings()
        self.runner = JobRunner(threads=2, parent=self)
        self.index_job: JobHandle | None = None
        self.query_job: JobHandle | None = None
        self.demo_job: JobHandle | None = None
        self.demo_opening = False  # the welcome stays up until the demo library shows
        self.closing = False
        self.on_open: list[Callable[[], None]] = []
        self._build()
        S.restore_player(self.settings, self.player, ViewMode)
        if not S.restore_window(self.settings, self):
            self._default_geometry()
            # Dock sizes apply once the window has its real size.
            QtCore.QTimer.singleShot(0, self._default_dock_sizes)
        self.features = FeatureActions(self)
        self.presenter = Presenter(self)
        self._open_library()

    # ------------------------------------------------------------------ layout

    def _dock(self, title: str, name: str, widget: QtWidgets.QWidget, area: Any) -> Any:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        F = QtWidgets.QDockWidget.DockWidgetFeature
        dock.setFeatures(F.DockWidgetMovable | F.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build(self) -> None:
        A = QtCore.Qt.DockWidgetArea
        self.library_panel = lp = LibraryPanel()
        self.query_panel = qp = QueryPanel()
        self.candidates = CandidatesView()
        self.candidates.set_thresholds(self.ws.thresholds)
        self.alignment = AlignmentView()
        self.player = SyncedPlayer()
        self.first_run = fr = FirstRunPanel()
        fr.set_demo_ready(demo_ready(self.demo_dir, self.demo_backend))
        self.notices = NoticeBar()

        self.workspace = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(self.workspace)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(qp)
        v.addWidget(self.player, 1)
        self.center = QtWidgets.QStackedWidget()
        self.center.addWidget(self.workspace)
        self.center.addWidget(fr)
        central = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(self.notices)
        v.addWidget(self.center, 1)
        self.setCentralWidget(central)
        self.library_dock = self._dock("Library", "libraryDock", lp, A.LeftDockWidgetArea)
        self.candidates_dock = self._dock(
            "Matches", "candidatesDock", self.candidates, A.BottomDockWidgetArea
        )
        self.alignment_dock = self._dock(
            "Alignment", "alignmentDock", self.alignment, A.RightDockWidgetArea
        )
        # The alignment runs the full height: its matrix needs height more than the
        # matches table needs the last few hundred pixels of width.
        self.setCorner(QtCore.Qt.Corner.BottomRightCorner, A.RightDockWidgetArea)
        self.fullscreen = FullScreen(self, [qp, self.notices])

        fr.demo_requested.connect(self.open_demo)
        fr.add_folder_requested.connect(lp.choose_folder)
        fr.cancel_requested.connect(self.cancel_demo)
        lp.add_folder_requested.connect(self.add_folder)
        lp.remove_folder_requested.connect(self.remove_folder)
        lp.index_requested.connect(self.start_index)
        lp.cancel_requested.connect(self.cancel_index)
        lp.use_as_query.connect(self.set_query)
        qp.query_chosen.connect(self.ws.set_query)
        qp.trim_changed.connect(self.ws.set_trim)
        qp.run_requested.connect(self.run_query)
        qp.cancel_requested.connect(self.cancel_query)
        self.candidates.selected.connect(self.select_match)
        self.alignment.cell_clicked.connect(lambda i, j, qt, mt: self.player.show_pair(qt, mt))
        self.alignment.path_changed.connect(
            lambda path: self.ws.set_path(path, self.alignment.anchored)
        )
        self.player.position_changed.connect(self.alignment.set_cursor)
        self.player.ready_changed.connect(
            lambda _: self.alignment.set_video_times(*self.player.frame_times())
        )
        self.player.in_point_requested.connect(qp.set_in)
        self.player.out_point_requested.connect(qp.set_out)
        self.player.error.connect(lambda m: self.statusBar().showMessage(m, 8000))
        # A damaged clip is said once per load ("query: damaged: plays to 5.3 s of 10 s").
        self.player.notice.connect(lambda m: self.statusBar().showMessage(m, 10000))

        build_menus(self)
        self.status_jobs = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_jobs)
        self.status_version = QtWidgets.QLabel(f"AVR Studio {__version__}")
        self.status_version.setObjectName("statusVersion")
        self.statusBar().addPermanentWidget(self.status_version)
        self.statusBar().showMessage("Opening the library…")

    def _default_geometry(self) -> None:
        """1600 x 1000, or what the screen has room for (a 1366 x 768 laptop)."""
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
        # Room for the window frame the system adds around the client area.
        w, h = min(1600, avail.width() - 16), min(1000, avail.height() - 48)
        self.resize(max(w, 960), max(h, 600))
        self.move(avail.x() + max(0, (avail.width() - w) // 2), avail.y() + 8)

    def _default_dock_sizes(self) -> None:
        """Dock sizes for the window's size: the cost matrix at least 300 px each way.

        The alignment dock gets about 30 % of the width (420-520 px: the matrix plus
        its axis), the library 16 % (240-320 px), the matches 26 % of the height
        (190-300 px); the player takes the rest.
        """
        H, V = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
        w, h = self.width(), self.height()
        library = min(max(round(0.16 * w), 240), 320)
        alignment = min(max(round(0.30 * w), 420), 520)
        self.resizeDocks([self.library_dock, self.alignment_dock], [library, alignment], H)
        self.resizeDocks([self.candidates_dock], [min(max(round(0.26 * h), 190), 300)], V)

    # ------------------------------------------------------------------ jobs

    def submit(self, name: str, fn: Any, *, lane: str = "default") -> JobHandle:
        """Run the job ``fn(progress, cancel)`` as ``name`` (a failure is shown and kept)."""
        handle = self.runner.submit(name, fn, lane=lane)
        handle.failed.connect(lambda exc, tb, n=name: self.ws.job_failed(n, exc))
        handle.ended.connect(self._update_job_status)
        self._update_job_status()
        return handle

    def _update_job_status(self) -> None:
        if not self.closing:
            self.status_jobs.setText(" · ".join(h.name for h in self.runner.active if not h.done))

    # ------------------------------------------------------------------ library

    def _open_library(self) -> JobHandle:
        h = self.submit("Opening library", self.ws.open_job(), lane=LIB)
        h.finished.connect(self._on_library_opened)
        h.failed.connect(lambda exc, tb: self.ws.library_failed(exc))
        return h

    def _on_library_opened(self, opened: OpenedLibrary) -> None:
        if self.closing:
            opened.library.close()
            return
        for note in self.ws.library_opened(opened):
            # The pose notice's middle is the command that installs the models: keep it.
            limit = 640 if note.key == "pose" else MAX_CHARS
            action = self.features.notice_action(note.key)
            self.notices.add(note.key, note.text, note.level, max_chars=limit, action=action)
        self._show_device(self.ws.device)
        self.statusBar().showMessage(f"Library: {self.ws.index_dir}", 5000)
        callbacks, self.on_open = self.on_open, []
        for cb in callbacks:
            cb()

    def _show_device(self, device: str | None) -> None:
        if device is None:
            return
        shown = "CPU" if device == "cpu" else f"GPU ({device})"
        self.status_version.setText(f"AVR Studio {__version__} · {shown}")
        self.status_version.setToolTip(f"Features are computed on: {device}")
        if device == "cpu" and S.first_time(self.settings, "cpu_notice"):
            self.notices.add("device", CPU_NOTICE, "info")

    def open_library(
        self,
        index_dir: str,
        backend: str | None = None,
        weights: str | None = None,
        *,
        reindex: bool = False,
    ) -> JobHandle:
        """Close the current library and open the one in ``index_dir``.

        Parameters
        ----------
        index_dir : str
        backend : str, optional
            Encoder for a new index (``None``: the index's own, or the default).
        weights : str, optional
            Model file for ``backend``.
        reindex : bool
            Switch the open library (``index_dir``) to ``backend`` features: every
            video is indexed again by the next run.
        """
        for job in (self.index_job, self.query_job):
            if job is not None:
                job.cancel()
        if reindex and backend is not None and Path(index_dir) == Path(self.ws.index_dir):
            old = self.ws.switch_features(backend)
        else:
            old = self.ws.switch_library(index_dir, backend, weights)
        if old is not None:
            # On the library lane: after whatever still uses the old library.
            self.submit("Closing library", lambda p, c: old.close(), lane=LIB)
        self.statusBar().showMessage(f"Opening {index_dir}…")
        return self._open_library()

    @property
    def showing_demo(self) -> bool:
        """Whether the open library is the demo's."""
        return Path(self.ws.index_dir) == Path(self.demo_dir) / "index"

    def library_opened_then(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the library is open (now, if it already is)."""
        if self.ws.library is not None:
            callback()
        else:
            self.on_open.append(callback)

    def refresh_library(self) -> JobHandle | None:
        """Re-read folders, videos and failures from the library."""
        return self._library_call("Reading library", self.ws.snapshot_job)

    def _library_call(self, name: str, make: Callable[[], Any]) -> JobHandle | None:
        try:
            job = make()
        except NotReady:
            return None
        h = self.submit(name, job, lane=LIB)
        h.finished.connect(self.ws.set_snapshot)
        return h

    def add_folder(self, folder: str) -> None:
        """Add a folder to the library and index it (the user's library, never the demo)."""
        if self.showing_demo and not self.ws.at_home:
            self.statusBar().showMessage("Back to your own library to add the folder", 8000)
            self.open_library(*self.ws.home)
            self.library_opened_then(lambda: self.add_folder(folder))
            return
        h = self._library_call("Adding folder", lambda: self.ws.add_folder_job(folder))
        if h is not None:
            h.finished.connect(lambda _: self.start_index())

    def remove_folder(self, folder: str) -> None:
        """Remove a folder (its videos leave the library)."""
        self._library_call("Removing folder", lambda: self.ws.remove_folder_job(folder))

    def start_index(self) -> JobHandle | None:
        """Index the library in the background (progress and cancel in the panel)."""
        if self.ws.library is None or (self.index_job is not None and not self.index_job.done):
            return self.index_job
        h = self.submit("Indexing", self.ws.index_job(self.presenter.live_snapshots()), lane=LIB)
        self.index_job = h
        self.library_panel.set_busy(True)
        self.index_action.setEnabled(False)
        h.progress.connect(self.library_panel.show_progress)
        h.finished.connect(self._on_indexed)
        h.cancelled.connect(lambda: self.statusBar().showMessage("Indexing cancelled", 5000))
        h.ended.connect(self._on_index_ended)
        return h

    def _on_indexed(self, result: Any) -> None:
        summary, snap = result
        self.ws.set_snapshot(snap)
        self.statusBar().showMessage(index_message(summary), 8000)

    def _on_index_ended(self) -> None:
        self.library_panel.set_busy(False)
        self.index_action.setEnabled(True)
        if not self.closing:
            self.refresh_library()

    def cancel_index(self) -> None:
        """Stop indexing at the next file boundary (what was indexed stays)."""
        if self.index_job is not None:
            self.index_job.cancel()

    def install_pose_models(self, wheel: str | None = None, folder: str | None = None) -> Any:
        """Install the body-pose models (a job with progress and cancel; see FeatureActions)."""
        return self.features.install_pose_models(wheel, folder)

    # ------------------------------------------------------------------ first run

    @property
    def first_run_visible(self) -> bool:
        """Whether the centre shows the first-run panel."""
        return self.center.currentWidget() is self.first_run

    def update_center(self) -> None:
        """The first-run panel while the library is empty and nothing is queried."""
        building = self.demo_job is not None and not self.demo_job.done
        empty = self.ws.empty or self.demo_opening
        welcome = building or (empty and self.ws.query_path is None)
        self.center.setCurrentWidget(self.first_run if welcome else self.workspace)

    def open_demo(self) -> JobHandle | None:
        """Build the demo library (once), open it and query it with its demo clip."""
        if self.demo_job is not None and not self.demo_job.done:
            return self.demo_job
        fr = self.first_run
        h = self.submit("Building the demo library", demo_job(self.demo_dir, self.demo_backend))
        self.demo_job = h
        self.update_center()  # the centre follows the demo while it is built
        fr.set_running(True)
        self.demo_action.setEnabled(False)
        h.progress.connect(fr.show_progress)
        h.finished.connect(self._on_demo_built)
        h.cancelled.connect(lambda: fr.show_message("Cancelled: the demo library was not opened."))
        h.failed.connect(
            lambda exc, tb: fr.show_message(
                f"The demo library could not be built: {error_text(exc)}", error=True
            )
        )
        h.ended.connect(self._on_demo_ended)
        return h

    def _on_demo_ended(self) -> None:
        self.first_run.set_running(False)
        self.demo_action.setEnabled(True)
        self.update_center()

    def cancel_demo(self) -> None:
        """Stop building the demo library."""
        if self.demo_job is not None:
            self.demo_job.cancel()

    def _on_demo_built(self, folder: str) -> None:
        if self.closing:
            return
        self.first_run.set_demo_ready(True)
        self.first_run.show_message("Opening the demo library…")
        query = os.path.join(folder, DEMO_QUERY)
        self.demo_opening = True
        self.open_library(os.path.join(folder, "index"))
        self.library_opened_then(lambda: self._query_demo(query))

    def _query_demo(self, query: str) -> None:
        self.first_run.show_message("")
        self.set_query(query)
        self.run_query(query, None)

    # ------------------------------------------------------------------ query

    def set_query(self, path: str) -> None:
        """Make ``path`` the query (as if opened or dropped)."""
        self.query_panel.set_query(path)

    def run_query(self, path: str, trim: tuple[float, float] | None) -> JobHandle | None:
        """Search the library for ``path`` (``trim``: (in, out) seconds or None)."""
        if self.query_job is not None and not self.query_job.done:
            return self.query_job
        qp = self.query_panel
        try:
            job = self.ws.query_job(path, trim)
        except NotReady as exc:
            qp.show_message(str(exc))
            return None
        self.ws.set_query(path)
        self.ws.set_trim(trim)
        h = self.submit("Finding matches", job, lane=LIB)
        self.query_job = h
        qp.set_busy(True)
        qp.show_message("Finding matches…")
        qp.set_matched_by(None)
        h.progress.connect(qp.show_progress)
        h.finished.connect(self.ws.query_done)
        h.failed.connect(lambda exc, tb: qp.show_message(f"Query failed: {error_text(exc)}"))
        h.cancelled.connect(lambda: qp.show_message("Query cancelled"))
        h.ended.connect(lambda: qp.set_busy(False))
        return h

    def cancel_query(self) -> None:
        """Stop the running query."""
        if self.query_job is not None:
            self.query_job.cancel()

    def select_match(self, match: Any) -> None:
        """Show ``match`` (one of the current matches, or None) in the views."""
        self.ws.select(match)

    # ------------------------------------------------------------------ export

    def export(
        self, kind: str, file_filter: str, out: str | None = None
    ) -> JobHandle | ExportDialog | None:
        """Export the selected pair (the export dialog unless ``out`` is given)."""
        if not self.ws.can_export:
            return None
        if out is None:  # the dialog (folder outside the library, layout, progress)
            return open_pair_export(self, kind, file_filter)
        act = self.skeleton_export_action
        job = self.ws.export_job(kind, out, skeletons=act.isEnabled() and act.isChecked())
        h = self.submit("Exporting", job)
        h.progress.connect(lambda d, t, m: self.statusBar().showMessage(f"Exporting {d}/{t} {m}"))
        h.finished.connect(lambda p: self.statusBar().showMessage(f"Wrote {p}", 10000))
        return h

    # ------------------------------------------------------------------ keys and closing

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        # Transport keys work wherever focus is, unless a widget used them first.
        self.player.keyPressEvent(event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.closing = True
        self.fullscreen.leave()  # the layout to keep is the window's, not full screen's
        S.save_window(self.settings, self, S.player_state(self.player))
        self.player.close_sources()
        self.runner.shutdown()
        self.ws.close()
        super().closeEvent(event)
