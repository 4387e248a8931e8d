"""The main window: library, query, candidates, alignment view and synced player.

Every library call, query, thumbnail and export runs as a job on :class:`JobRunner`
(library calls on their own one-thread lane); the GUI thread only shows results.
Closing the window cancels every job and waits for it, stops the decoders and closes
the library.
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
from avr_gui.gui.candidates import CandidatesView, make_strips, strip_times
from avr_gui.gui.export_actions import KINDS, export_job, export_unavailable_reason
from avr_gui.gui.library_panel import LibraryPanel, make_thumbnails
from avr_gui.gui.player import SyncedPlayer, TimeMap, ViewMode
from avr_gui.gui.query_panel import QueryPanel
from avr_gui.gui.workers import JobHandle, JobRunner

LIB = "library"


def default_index_dir() -> str:
    """Where the library index lives unless the command line says otherwise."""
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation
    )
    return os.path.join(base or os.path.expanduser("~/.avr-studio"), "library")


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
    """

    def __init__(
        self,
        index_dir: str | None = None,
        backend: str | None = None,
        settings: QtCore.QSettings | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("AvrStudioMain")
        self.setWindowTitle(f"AVR Studio {__version__}")
        self.index_dir = index_dir or default_index_dir()
        self.backend = backend
        self.settings = settings if settings is not None else S.open_settings()
        self.runner = JobRunner(threads=2, parent=self)
        self.library: Any = None
        self.encoder_name: str | None = None
        self.entries: list[Any] = []
        self.result: Any = None
        self.match: Any = None
        self.query_path: str | None = None
        self.last_error: str | None = None
        self.index_job: JobHandle | None = None
        self.query_job: JobHandle | None = None
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

        central = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        v.addWidget(self.query_panel)
        v.addWidget(self.player, 1)
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

        self._build_actions()
        self.status_jobs = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_jobs)
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

    def _open_library(self) -> None:
        index_dir, backend = self.index_dir, self.backend

        def job(progress, cancel):
            from avr_gui.core.features import get_encoder
            from avr_gui.core.library import Library

            encoder = get_encoder(backend) if backend else None
            lib = Library.open(index_dir, encoder=encoder)
            return lib, _snapshot(lib)

        h = self._submit("Opening library", job, lane=LIB)
        h.finished.connect(self._on_library_opened)

    def _on_library_opened(self, result) -> None:
        lib, snap = result
        if self._closing:
            lib.close()
            return
        self.library = lib
        self.encoder_name = lib.encoder_name or self.backend
        self._show_snapshot(snap)
        self.statusBar().showMessage(f"Library: {self.index_dir}", 5000)
        callbacks, self._on_open = self._on_open, []
        for cb in callbacks:
            cb()

    def library_opened_then(self, callback) -> None:
        """Call ``callback()`` once the library is open (now, if it already is)."""
        if self.library is not None:
            callback()
        else:
            self._on_open.append(callback)

    def _show_snapshot(self, snap) -> None:
        folders, entries, status = snap
        self.entries = entries
        self.library_panel.show_state(folders, entries, status)
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
        """Add a folder to the library and index it."""
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
        self.statusBar().showMessage(
            f"Indexed {summary.indexed} new, {summary.unchanged} unchanged, "
            f"{summary.failed} failed in {summary.seconds:.1f} s",
            8000,
        )

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
        self.setWindowTitle(f"AVR Studio {__version__} — {Path(path).name}")
        self.player.load(path)
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

    def run_query(self, path: str, trim) -> JobHandle | None:
        """Search the library for ``path`` (``trim``: (in, out) seconds or None)."""
        if self.library is None:
            self.query_panel.message.setText("The library is still opening")
            return None
        if self.query_job is not None and not self.query_job.done:
            return self.query_job
        lib = self.library

        def job(progress, cancel):
            return lib.query(path, trim=trim, top=10, progress=progress, cancel=cancel)

        h = self._submit("Finding matches", job, lane=LIB)
        self.query_job = h
        self.query_panel.set_busy(True)
        self.query_panel.message.setText("Finding matches…")
        h.progress.connect(self.query_panel.show_progress)
        h.finished.connect(self._on_query_done)
        h.failed.connect(
            lambda exc, tb: self.query_panel.message.setText(f"Query failed: {_error_text(exc)}")
        )
        h.cancelled.connect(lambda: self.query_panel.message.setText("Query cancelled"))
        h.ended.connect(lambda: self.query_panel.set_busy(False))
        return h

    def cancel_query(self) -> None:
        """Stop the running query."""
        if self.query_job is not None:
            self.query_job.cancel()

    def _on_query_done(self, result) -> None:
        self.result = result
        matches = list(result.results)
        n = len(result.query.timestamps)
        self.query_panel.message.setText(
            f"{len(matches)} matches for {n} query frames "
            f"({result.query.timestamps[0]:.2f}–{result.query.timestamps[-1]:.2f} s)"
        )
        self.candidates.set_matches(
            matches, f"{len(matches)} matches, ranked by score (lower = better); click to inspect"
        )
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
        if match is None or self.result is None:
            self.alignment.clear()
            return
        al = match.alignment
        q_ts = np.asarray(self.result.query.timestamps, dtype=np.float64)
        m_ts = np.asarray(match.features.timestamps, dtype=np.float64)
        if al.cost is not None:
            self.alignment.set_alignment(
                al.cost,
                al.path,
                q_ts,
                m_ts,
                f"#{match.rank} {Path(match.path).name} — DRAQ {match.draq:.3f}, "
                f"DTW cost {match.dtw_cost:.2f} ({match.normalized_cost:.3f}/step), "
                f"similarity {match.similarity:.3f}",
            )
        else:
            self.alignment.clear()
        query = self.query_path or self.result.query_path
        self.player.load(query, str(match.path), TimeMap.from_path(al.path, q_ts, m_ts))

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
        fn = export_job(
            kind,
            self.query_path or self.result.query_path,
            str(self.match.path),
            path,
            self.result.query.timestamps,
            self.match.features.timestamps,
            out,
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


def _snapshot(lib) -> tuple[list[str], list[Any], Any]:
    """Folders, entries and status of ``lib`` (runs on the library lane)."""
    return [str(f) for f in lib.folders], lib.entries(), lib.status()
