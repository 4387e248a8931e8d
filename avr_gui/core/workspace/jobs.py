"""The workspace's long work as jobs: ``fn(progress, cancel) -> result``.

Each factory captures what its job needs (the library, a path) and returns the job; the
caller runs it where it likes (the window: on the library's worker lane, one call at a
time) and hands the result back to the :class:`~avr_gui.core.workspace.model.Workspace`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from avr_gui.core.errors import InputError
from avr_gui.core.workspace.opening import LibrarySnapshot, pose_tracks, snapshot


class NotReady(InputError):
    """What was asked needs something the workspace does not have yet (one line why)."""


#: A job: ``fn(progress, cancel) -> result`` (see :mod:`avr_gui.core.jobs`).
Job = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class QueryOutcome:
    """What a query job returns: the result and the stored pose tracks it needs.

    Attributes
    ----------
    result : QueryResult
    poses : dict of str to PoseTrack
        Landmark tracks of the matches (and of the query, if it is a library clip).
    path : str
        The query file as asked for.
    trim : (float, float) or None
    """

    result: Any
    poses: dict[str, Any]
    path: str
    trim: tuple[float, float] | None


def snapshot_job(lib: Any) -> Job:
    """A job that re-reads ``lib`` (returns a :class:`LibrarySnapshot`)."""
    return lambda progress, cancel: snapshot(lib)


def add_folder_job(lib: Any, folder: str) -> Job:
    """A job that adds ``folder`` to ``lib`` (returns a :class:`LibrarySnapshot`)."""

    def job(progress: Any, cancel: Any) -> LibrarySnapshot:
        lib.add_folder(folder)
        return snapshot(lib)

    return job


def remove_folder_job(lib: Any, folder: str) -> Job:
    """A job that removes ``folder`` from ``lib`` (returns a :class:`LibrarySnapshot`)."""

    def job(progress: Any, cancel: Any) -> LibrarySnapshot:
        lib.remove_folder(folder)
        return snapshot(lib)

    return job


#: Seconds between two snapshots taken while indexing (a file done in less time waits).
LIVE_SNAPSHOT_S = 0.5


class LiveSnapshots:
    """A progress callback that also reads the library as files get indexed.

    Indexing runs on the library's own thread, which the window cannot use meanwhile
    to re-read the library: without this the panel said "0 videos" until the run
    ended. Wrapped around the index run's progress, it takes a
    :class:`LibrarySnapshot` on that same thread once the scan has listed the videos
    (the first report with a known total) and then whenever the count of files done
    grows, at most every ``min_interval_s`` seconds, and hands each to
    ``on_snapshot``.

    Parameters
    ----------
    lib : Library
    progress : callable
        ``progress(done, total, message)``: every report is passed on.
    on_snapshot : callable
        ``on_snapshot(snapshot)``; called on the indexing thread.
    min_interval_s : float
        Least seconds between two snapshots (reading a large catalog costs).
    clock : callable
        Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        lib: Any,
        progress: Callable[[int, int, str], None],
        on_snapshot: Callable[[LibrarySnapshot], None],
        *,
        min_interval_s: float = LIVE_SNAPSHOT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lib = lib
        self.progress = progress
        self.on_snapshot = on_snapshot
        self.min_interval_s = float(min_interval_s)
        self.clock = clock
        self.taken = 0
        self._last_t: float | None = None
        self._last_done = -1

    def __call__(self, done: int, total: int, message: str) -> None:
        self.progress(done, total, message)
        if total <= 0:  # still scanning: the catalog has not listed the videos yet
            return
        now = self.clock()
        first = self._last_t is None
        if not first and (done <= self._last_done or now - self._last_t < self.min_interval_s):
            return
        self._last_t, self._last_done = now, done
        self.taken += 1
        self.on_snapshot(snapshot(self.lib))


def index_job(
    lib: Any,
    on_snapshot: Callable[[LibrarySnapshot], None] | None = None,
    *,
    min_interval_s: float = LIVE_SNAPSHOT_S,
) -> Job:
    """A job that indexes ``lib`` (returns ``(IndexSummary, LibrarySnapshot)``).

    Parameters
    ----------
    lib : Library
    on_snapshot : callable, optional
        Given the library as it stands while the run goes on (see
        :class:`LiveSnapshots`), on the indexing thread.
    min_interval_s : float
        Least seconds between two of those snapshots.
    """

    def job(progress: Any, cancel: Any) -> tuple[Any, LibrarySnapshot]:
        if on_snapshot is not None:
            progress = LiveSnapshots(lib, progress, on_snapshot, min_interval_s=min_interval_s)
        summary = lib.index(progress=progress, cancel=cancel)
        return summary, snapshot(lib)

    return job


def duration_job(path: str) -> Job:
    """A job that reads the length (s) of a video file."""

    def job(progress: Any, cancel: Any) -> float:
        from avr_gui.core.video import probe

        return float(probe(path).duration_s)

    return job


def query_job(
    lib: Any, path: str, trim: tuple[float, float] | None, top: int, candidates: int
) -> Job:
    """A job that searches ``lib`` for ``path`` (returns a :class:`QueryOutcome`).

    Parameters
    ----------
    lib : Library
    path : str
    trim : (float, float) or None
        Seconds of the query to search with (None: all of it).
    top : int
        Matches to return.
    candidates : int
        Clips shortlisted before alignment.

    Returns
    -------
    callable
    """

    def job(progress: Any, cancel: Any) -> QueryOutcome:
        result = lib.query(
            path, trim=trim, top=top, candidates=candidates, progress=progress, cancel=cancel
        )
        wanted = [str(m.path) for m in result.results]
        if getattr(result, "query_pose", None) is None and result.query_path:
            wanted.append(str(result.query_path))
        return QueryOutcome(result, pose_tracks(lib, wanted), str(path), trim)

    return job


def query_pose_job(lib: Any, path: str) -> Job:
    """A job reading the stored skeleton of the library clip ``path`` (None without)."""
    return lambda progress, cancel: pose_tracks(lib, [path]).get(path)
