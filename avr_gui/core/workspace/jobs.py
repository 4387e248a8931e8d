"""The workspace's long work as jobs: ``fn(progress, cancel) -> result``.

Each factory captures what its job needs (the library, a path) and returns the job; the
caller runs it where it likes (the window: on the library's worker lane, one call at a
time) and hands the result back to the :class:`~avr_gui.core.workspace.model.Workspace`.
"""

from __future__ import annotations

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


def index_job(lib: Any) -> Job:
    """A job that indexes ``lib`` (returns ``(IndexSummary, LibrarySnapshot)``)."""

    def job(progress: Any, cancel: Any) -> tuple[Any, LibrarySnapshot]:
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
