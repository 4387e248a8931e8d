"""Shows the workspace model in the main window's widgets.

:class:`Presenter` subscribes to the :class:`~avr_gui.core.workspace.Workspace` and, for
each change it announces, updates the panels, the player and the actions. It decides
nothing: the rules are the model's; it only starts the small jobs a view needs (a
query's length, its stored skeleton, thumbnails and previews).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore

from avr_gui import __version__
from avr_gui.core.workspace import Workspace
from avr_gui.core.workspace.labels import match_title, query_message, ranking_caption
from avr_gui.gui.panels.candidates import make_strips, strip_times
from avr_gui.gui.panels.library_panel import make_thumbnails
from avr_gui.gui.player import TimeMap

#: The job lane of every library call (one thread: see :mod:`avr_gui.gui.workers`).
LIB = "library"
_NO_MATCHES = "Run a query to see ranked matches"


class SnapshotRelay(QtCore.QObject):
    """Carries library snapshots taken on the indexing thread to the GUI thread.

    Signals
    -------
    arrived(snapshot)
        Queued onto the thread this object lives on (the GUI thread).
    """

    arrived = QtCore.Signal(object)

    def send(self, snap: Any) -> None:
        """Called on any thread: ``snap`` arrives on the GUI thread."""
        self.arrived.emit(snap)


class Presenter:
    """Presents ``win.ws`` in ``win``'s widgets (see the module docstring).

    Parameters
    ----------
    win : MainWindow
        Its panels, player, actions and :meth:`~MainWindow.submit` are used.
    """

    def __init__(self, win: Any) -> None:
        self.win = win
        self.ws: Workspace = win.ws
        self._shown_query: str | None = None
        #: Paths whose thumbnails were asked for (live updates must not ask again).
        self._thumbs_asked: set[str] = set()
        #: Bumped at every pair load: a position kept for a load applies to that one.
        self._load_serial = 0
        self.relay = SnapshotRelay(win)
        self.relay.arrived.connect(self._on_live_snapshot)
        self.unsubscribe = self.ws.subscribe(self.on_event)
        self._present_query()

    def on_event(self, event: str) -> None:
        """Show what ``event`` (a :class:`Workspace` event name) changed."""
        if self.win.closing:
            return
        present = {
            Workspace.LIBRARY: self._present_library,
            Workspace.SNAPSHOT: self._present_snapshot,
            Workspace.QUERY: self._present_query,
            Workspace.RESULTS: self._present_results,
            Workspace.MATCH: self._present_match,
            Workspace.PATH: self._present_path,
            Workspace.ERROR: lambda: self.win.statusBar().showMessage(self.ws.last_error, 15000),
        }
        present[event]()

    def _present_library(self) -> None:
        ws, fr = self.ws, self.win.first_run
        if ws.open_error is not None:
            self.win.on_open = []  # what waited for this library will not happen
            fr.set_can_add_folder(False, "The library could not be opened")
            fr.show_message(ws.open_error, error=True)
        elif ws.library is not None:
            fr.set_can_add_folder(not ws.readonly, "This library is read-only here")
            title = "Library (demo)" if self.win.showing_demo else "Library"
            self.win.library_dock.setWindowTitle(title)
            self.win.library_panel.set_can_switch(not ws.readonly)
            self.win.features.refresh_options()
        self.win.update_center()

    def _present_snapshot(self) -> None:
        snap = self.ws.snapshot
        assert snap is not None
        self.win.demo_opening = False
        self.win.update_center()
        panel = self.win.library_panel
        panel.show_state(snap.folders, snap.entries, snap.status, snap.encoder, snap.learned)
        missing = [p for p in panel.missing_thumbnails(snap.entries) if p not in self._thumbs_asked]
        if missing:
            self._thumbs_asked.update(missing)
            h = self.win.submit("Thumbnails", lambda p, c: make_thumbnails(missing, p, c))
            h.finished.connect(panel.set_thumbnails)
            # Asked again by the next snapshot if this job did not deliver them.
            h.ended.connect(lambda m=missing: self._thumbs_asked.difference_update(m))

    def live_snapshots(self) -> Any:
        """The ``on_snapshot`` callable of an index job (see ``Workspace.index_job``).

        Snapshots taken on the indexing thread reach the workspace on the GUI thread,
        so the library panel's counts and list follow the run.
        """
        return self.relay.send

    def _on_live_snapshot(self, snap: Any) -> None:
        job = self.win.index_job
        # One that arrives after the run ended is older than the run's final snapshot.
        if not self.win.closing and job is not None and not job.done:
            self.ws.set_snapshot(snap)

    def _present_query(self) -> None:
        ws, qp = self.ws, self.win.query_panel
        path = ws.query_path
        if path != self._shown_query:
            self._shown_query = path
            self.win.update_center()
            if path is None:
                qp.clear()
                self.win.player.clear()
                self.win.setWindowTitle(f"AVR Studio {__version__}")
                return
            self.win.setWindowTitle(f"AVR Studio {__version__} — {Path(path).name}")
            self.win.player.load(path)
            self._load_query_pose(path)
            self._load_duration(path)
        if ws.query_duration > 0 and qp.duration != ws.query_duration:
            qp.set_duration(ws.query_duration)
        if ws.result is not None:
            self.win.candidates.set_caption(ranking_caption(ws.result))
        self.win.candidates.set_stale(ws.stale)

    def _load_duration(self, path: str) -> None:
        known = self.ws.known_duration(path)
        if known is not None:
            self.ws.set_duration(path, known)
            return
        h = self.win.submit("Reading query", self.ws.duration_job(path))
        h.finished.connect(lambda d, p=path: self.ws.set_duration(p, d))
        h.failed.connect(
            lambda exc, tb: self.win.query_panel.show_message(f"Cannot use this file: {exc}")
        )

    def _load_query_pose(self, path: str) -> None:
        """Show the stored skeleton of a library clip chosen as the query, if any."""
        job = self.ws.query_pose_job(path)
        if job is not None:
            h = self.win.submit("Reading pose", job, lane=LIB)
            h.finished.connect(lambda track, q=path: self._on_query_pose(q, track))

    def _on_query_pose(self, path: str, track: Any) -> None:
        if self.ws.set_query_pose(path, track):
            self.win.player.set_poses(track, None)

    def _present_results(self) -> None:
        ws = self.ws
        matches = ws.matches
        self.win.candidates.set_stale(ws.stale)
        if ws.result is None:
            self.win.candidates.set_matches([], _NO_MATCHES)
            return
        self.win.query_panel.show_message(query_message(ws.result))
        self.win.query_panel.set_matched_by(getattr(ws.result, "query_performer", None))
        self.win.candidates.set_matches(matches, ranking_caption(ws.result))
        rows = [(str(m.path), strip_times(m)) for m in matches]
        if rows:
            h = self.win.submit("Match previews", lambda p, c: make_strips(rows, p, c))
            h.finished.connect(self.win.candidates.set_strips)
            # Next loop iteration: the table paints first, then the best match loads,
            # so no single stretch of GUI-thread work holds up input.
            QtCore.QTimer.singleShot(0, self._select_best)

    def _select_best(self) -> None:
        if not self.win.closing and self.win.candidates.model.rowCount() and self.ws.match is None:
            self.win.candidates.select_view_row(0)

    def _present_match(self) -> None:
        ws = self.ws
        for act in self.win.export_actions.values():
            act.setEnabled(ws.can_export)
            act.setToolTip(ws.export_reason or act.text().rstrip("…"))
        why = ws.skeleton_reason()
        self.win.skeleton_export_action.setEnabled(not why)
        self.win.skeleton_export_action.setToolTip(
            why or "Draw each clip's skeleton on its frames in the side-by-side export"
        )
        match = ws.match
        if match is None:
            self.win.alignment.clear()
            return
        al = match.alignment
        q_ts, m_ts = ws.query_times, ws.match_times
        if al.cost is not None:
            title = match_title(match, ws.thresholds)
            self.win.alignment.set_alignment(al.cost, al.path, q_ts, m_ts, title)
        else:
            self.win.alignment.clear()
        player = self.win.player
        # Another match of the same query: stay at the query time the user was at.
        keep = player.position if self._same_query_shown(ws.played_query) else None
        playing = player.playing
        player.load(ws.played_query, str(match.path), TimeMap.from_path(al.path, q_ts, m_ts))
        player.set_poses(ws.query_pose, ws.match_pose)
        self._load_serial += 1
        if keep is not None:
            self._seek_when_ready(keep, self._load_serial, playing)

    def _same_query_shown(self, query: str | None) -> bool:
        """Whether the player shows ``query`` (opened) and a match of it."""
        player = self.win.player
        src = player.query.source
        return (
            query is not None
            and src is not None
            and src.path == query
            and player.ready
            and player.match.source is not None
        )

    def _seek_when_ready(self, t: float, serial: int, play: bool = False) -> None:
        """Seek the player to query time ``t`` once the pair of load ``serial`` opened.

        The player rewinds to the start of the new pair's span when its match has
        opened (asynchronously); the kept time is applied after that (and playing goes
        on if ``play``), unless another pair was loaded meanwhile.
        """
        player = self.win.player
        pending = [True]

        def apply(ready: bool = True) -> None:
            if not pending[0]:
                return
            stale = serial != self._load_serial or self.win.closing
            if not ready and not stale:
                return
            pending[0] = False
            player.ready_changed.disconnect(apply)
            if not stale:
                player.seek(t)  # clamped to the new pair's span
                if play:
                    player.play()

        player.ready_changed.connect(apply)
        if player.ready:
            apply()

    def _present_path(self) -> None:
        ws = self.ws
        if ws.match is not None and ws.path is not None:
            self.win.player.set_time_map(TimeMap.from_path(ws.path, ws.query_times, ws.match_times))
