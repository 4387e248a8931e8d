"""The workspace: the app's state and its rules, without a window.

One :class:`Workspace` holds what the user works on: the open library and its snapshot,
the query (file, trim, length), the ranked matches, the selected match, the alignment
path shown (through pinned anchors) and what an export would write. Its methods are the
rules: choosing another query clears the matches of the previous one; changing the trim
marks them stale; selecting a match resets the pins; an export needs a selected match.

It never runs long work itself: :meth:`Workspace.open_job`, :meth:`Workspace.query_job`
and friends return job functions ``fn(progress, cancel)`` (:mod:`avr_gui.core.jobs`)
that the caller runs where it likes (the window: on a worker thread), and hands the
result back (:meth:`Workspace.library_opened`, :meth:`Workspace.query_done`).

Listeners (:meth:`Workspace.subscribe`) are called with the name of what changed, one of
the ``Workspace.*`` event constants, so a window can subscribe and present.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

import avr_gui.core.workspace.jobs as jobs
from avr_gui.core.config import Config
from avr_gui.core.errors import AvrError
from avr_gui.core.workspace.anchors import AnchoredAlignment
from avr_gui.core.workspace.exports import export_unavailable_reason, skeleton_export_supported
from avr_gui.core.workspace.jobs import Job, NotReady, QueryOutcome
from avr_gui.core.workspace.labels import Thresholds, error_text
from avr_gui.core.workspace.opening import LibrarySnapshot, Notice, OpenedLibrary, open_library
from avr_gui.core.workspace.selection import MatchSelection
from avr_gui.core.workspace.settings import settings_or_defaults

log = logging.getLogger(__name__)


class Workspace(MatchSelection):
    """The app's state and rules (see the module docstring).

    Parameters
    ----------
    index_dir : str
        The library index folder.
    backend : str, optional
        Encoder asked for on the command line (None: the library's own, or the
        ``features.encoder`` setting for a new library).
    weights : str, optional
        Model file for ``backend``.
    config : Config, optional
        The settings (read once, at start); default: :func:`settings_or_defaults`.

    Notes
    -----
    The event constants and :meth:`subscribe` come from
    :class:`~avr_gui.core.workspace.events.WorkspaceEvents`; the selected match, its
    pinned path and its export from
    :class:`~avr_gui.core.workspace.selection.MatchSelection`.
    """

    def __init__(
        self,
        index_dir: str,
        backend: str | None = None,
        weights: str | None = None,
        *,
        config: Config | None = None,
    ) -> None:
        if config is None:
            config, error = settings_or_defaults()
            if error is not None:
                log.warning("settings not usable, using the shipped defaults: %s", error)
        self.config = config
        self.thresholds = Thresholds.from_config(config)
        self.index_dir = str(index_dir)
        self.backend = backend
        self.weights = weights
        #: The user's own library (to come back to from the demo).
        self.home = (self.index_dir, backend, weights)
        #: The next :meth:`open_job` switches the library to :attr:`backend`.
        self.reindex = False
        self.library: Any = None
        self.encoder_name: str | None = None
        self.device: str | None = None
        self.snapshot: LibrarySnapshot | None = None
        self.open_error: str | None = None
        self.query_path: str | None = None
        self.query_duration = 0.0
        self.trim: tuple[float, float] | None = None
        self.result: Any = None
        self.result_for: tuple[str, tuple[float, float] | None] | None = None
        self.poses: dict[str, Any] = {}
        self.query_pose: Any = None
        self.match: Any = None
        self.path: np.ndarray | None = None
        self.anchored: AnchoredAlignment | None = None
        self.last_error: str | None = None
        self._pose_noticed = False
        super().__init__()  # the listeners
        self.export_reason = export_unavailable_reason()
        self.skeleton_export_ok = skeleton_export_supported()

    # ------------------------------------------------------------------ settings

    @property
    def top(self) -> int:
        """Matches a query shows (``query.top``)."""
        return int(self.config["query.top"])  # type: ignore[call-overload]

    @property
    def candidates(self) -> int:
        """Clips shortlisted before alignment (``query.candidates``)."""
        return int(self.config["query.candidates"])  # type: ignore[call-overload]

    # ------------------------------------------------------------------ the library

    def open_job(self) -> Job:
        """A job that opens the library in :attr:`index_dir` (see :func:`open_library`)."""
        index_dir, backend, weights = self.index_dir, self.backend, self.weights
        new_encoder = str(self.config["features.encoder"])
        device = str(self.config["device"])
        reindex = self.reindex
        return lambda progress, cancel: open_library(
            index_dir, backend, weights, new_encoder=new_encoder, device=device, reindex=reindex
        )

    def switch_library(
        self, index_dir: str, backend: str | None = None, weights: str | None = None
    ) -> Any:
        """Forget the open library (to open another); the query and matches go with it.

        Parameters
        ----------
        index_dir : str
        backend, weights : str, optional

        Returns
        -------
        Library or None
            The library that was open: the caller closes it once nothing uses it.
        """
        old, self.library = self.library, None
        self.index_dir, self.backend, self.weights = str(index_dir), backend, weights
        self.reindex = False
        self.open_error = None
        self.set_query(None)
        self._notify(self.LIBRARY)
        return old

    def switch_features(self, encoder: str) -> Any:
        """Forget the open library, to open it again with ``encoder`` features.

        The next :meth:`open_job` switches it (every video pending again: index it
        next); the query and matches go, as with :meth:`switch_library`. The user's
        own library keeps the new features when it is opened again later.

        Parameters
        ----------
        encoder : str
            A registry name (``auto``, ``effnet-lite0``, ...).

        Returns
        -------
        Library or None
            The library that was open: the caller closes it once nothing uses it.
        """
        at_home = self.at_home
        old = self.switch_library(self.index_dir, encoder, None)
        self.reindex = True
        if at_home:
            # Its own encoder from now on: asking for the old one would be refused.
            self.home = (self.index_dir, None, None)
        return old

    def library_opened(self, opened: OpenedLibrary) -> list[Notice]:
        """Take over a library :meth:`open_job` opened.

        Parameters
        ----------
        opened : OpenedLibrary

        Returns
        -------
        list of Notice
            The notices to show: the pose notice only the first time in this workspace
            (reopening a library does not bring it back).
        """
        self.library = opened.library
        self.reindex = False  # done (or refused, with a notice): not again at reopening
        self.encoder_name = opened.library.encoder_name or self.backend
        if opened.device is not None:
            self.device = opened.device
        shown = []
        for note in opened.notices:
            if note.key == "pose":
                if self._pose_noticed:
                    continue
                self._pose_noticed = True
            shown.append(note)
        self._notify(self.LIBRARY)
        self.set_snapshot(opened.snapshot)
        return shown

    def library_failed(self, exc: object) -> str:
        """The library could not be opened: remember why (one line, returned)."""
        self.open_error = f"The library in {self.index_dir} could not be opened: {error_text(exc)}"
        self.reindex = False
        self._notify(self.LIBRARY)
        return self.open_error

    @property
    def readonly(self) -> bool:
        """Whether the open library is read-only here."""
        return bool(getattr(self.library, "readonly", False))

    @property
    def at_home(self) -> bool:
        """Whether the open library is the user's own (not, say, the demo)."""
        return Path(self.home[0]) == Path(self.index_dir)

    def set_snapshot(self, snap: LibrarySnapshot) -> None:
        """The library's folders, videos and counts, as last read."""
        self.snapshot = snap
        self._notify(self.SNAPSHOT)

    @property
    def entries(self) -> list[Any]:
        """The library's videos (``VideoEntry``), as last read."""
        return [] if self.snapshot is None else list(self.snapshot.entries)

    @property
    def empty(self) -> bool:
        """Whether the library has no videos (or could not be opened)."""
        return self.open_error is not None or (self.snapshot is not None and not self.entries)

    def _lib(self) -> Any:
        if self.library is None:
            raise NotReady("The library is still opening")
        return self.library

    def snapshot_job(self) -> Job:
        """A job that re-reads the library (returns a :class:`LibrarySnapshot`)."""
        return jobs.snapshot_job(self._lib())

    def add_folder_job(self, folder: str) -> Job:
        """A job that adds ``folder`` to the library (returns a snapshot)."""
        return jobs.add_folder_job(self._lib(), folder)

    def remove_folder_job(self, folder: str) -> Job:
        """A job that removes ``folder`` from the library (returns a snapshot)."""
        return jobs.remove_folder_job(self._lib(), folder)

    def index_job(self, on_snapshot: Any = None) -> Job:
        """A job that indexes the library (returns ``(IndexSummary, snapshot)``).

        Parameters
        ----------
        on_snapshot : callable, optional
            Given :class:`LibrarySnapshot` s while the run goes on, on its thread (see
            :class:`~avr_gui.core.workspace.jobs.LiveSnapshots`); the caller hands
            them to :meth:`set_snapshot` on its own thread.
        """
        return jobs.index_job(self._lib(), on_snapshot)

    def close(self) -> None:
        """Close the library (the window is closing)."""
        if self.library is not None:
            self.library.close()
            self.library = None

    # ------------------------------------------------------------------ the query

    def set_query(self, path: str | None) -> None:
        """Choose the query file (None: no query).

        The matches of another query no longer apply, so they are cleared with the
        selected match; the same file again keeps them.
        """
        path = None if path is None else str(path)
        if path == self.query_path and path is not None:
            return
        self.query_path = path
        self.query_duration = 0.0
        self.trim = None
        self.query_pose = None
        self._clear_results()
        self._notify(self.QUERY)

    def known_duration(self, path: str) -> float | None:
        """The length (s) of ``path`` if the library already knows it, else None."""
        for e in self.entries:
            if e.path == path and e.duration > 0:
                return float(e.duration)
        return None

    def duration_job(self, path: str) -> Job:
        """A job that reads the length (s) of a query file from outside the library."""
        return jobs.duration_job(path)

    def set_duration(self, path: str, duration: float) -> bool:
        """The query file's length (s), once known; False if the query changed since."""
        if path != self.query_path:
            return False
        self.query_duration = max(0.0, float(duration))
        self._notify(self.QUERY)
        return True

    def set_trim(self, trim: tuple[float, float] | None) -> None:
        """The part of the query to search with (``(in, out)`` s, None: the whole clip).

        Matches found for another trim stay, marked :attr:`stale`.
        """
        trim = None if trim is None else (float(trim[0]), float(trim[1]))
        if trim != self.trim:
            self.trim = trim
            self._notify(self.QUERY)

    @property
    def stale(self) -> bool:
        """Whether the matches shown were found for another query or trim."""
        return self.result is not None and self.result_for != (self.query_path, self.trim)

    def query_job(self, path: str, trim: tuple[float, float] | None = None) -> Job:
        """A job that searches the library for ``path`` (returns a :class:`QueryOutcome`).

        Raises
        ------
        NotReady
            No library is open yet.
        """
        lib = self._lib()
        if trim is not None and trim[1] <= trim[0]:
            raise NotReady("The out point must come after the in point")
        return jobs.query_job(lib, path, trim, self.top, self.candidates)

    def query_done(self, outcome: QueryOutcome) -> bool:
        """Take the matches a query found (none selected yet).

        Returns
        -------
        bool
            False when another query was chosen while it ran: its matches are dropped.
        """
        if outcome.path != self.query_path:
            return False
        self.result = outcome.result
        self.result_for = (outcome.path, outcome.trim)
        self.poses = dict(outcome.poses)
        self.query_pose = getattr(outcome.result, "query_pose", None)
        if self.query_pose is None:
            self.query_pose = self.poses.get(str(outcome.result.query_path))
        self.match = None
        self.path = None
        self.anchored = None
        self._notify(self.RESULTS)
        self._notify(self.MATCH)
        return True

    def query_pose_job(self, path: str) -> Job | None:
        """A job reading the stored skeleton of a library clip chosen as the query."""
        lib = self.library
        if lib is None or not hasattr(lib, "pose_track"):
            return None
        return jobs.query_pose_job(lib, path)

    def set_query_pose(self, path: str, track: Any) -> bool:
        """The query's stored skeleton arrived; False when it no longer applies."""
        if track is None or path != self.query_path or self.match is not None:
            return False
        self.query_pose = track
        return True

    def _clear_results(self) -> None:
        had = self.result is not None or self.match is not None
        self.result = None
        self.result_for = None
        self.poses = {}
        self.match = None
        self.path = None
        self.anchored = None
        if had:
            self._notify(self.RESULTS)
            self._notify(self.MATCH)

    # ------------------------------------------------------------------ errors

    def job_failed(self, name: str, exc: object) -> str:
        """A job failed: remember and return the line to show (``"<job>: <why>"``)."""
        self.last_error = f"{name}: {error_text(exc)}"
        if not isinstance(exc, AvrError):
            # A bug, not bad input: keep the traceback for the report.
            log.error("%s failed", name, exc_info=exc if isinstance(exc, BaseException) else None)
        self._notify(self.ERROR)
        return self.last_error
