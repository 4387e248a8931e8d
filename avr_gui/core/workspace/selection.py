"""The selected match of a workspace: the path shown through pinned anchors, and export.

:class:`MatchSelection` is the part of
:class:`~avr_gui.core.workspace.model.Workspace` that concerns the selected match: its
feature times and skeletons, the alignment path shown (the optimal one, or one through
pinned cells) and the export of the pair. Selecting a match resets the pins; an export
needs a selected match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.workspace.anchors import AnchoredAlignment, align_through
from avr_gui.core.workspace.events import WorkspaceEvents
from avr_gui.core.workspace.exports import (
    COMPARISON,
    default_export_path,
    export_folder,
    export_job,
    skeleton_reason,
)
from avr_gui.core.workspace.jobs import Job, NotReady


class MatchSelection(WorkspaceEvents):
    """The selected match, its path and its export (a base of ``Workspace``).

    The state is set up by ``Workspace.__init__`` and the query rules (a new query or
    its results clear the selection); the annotations below say what this part uses.
    """

    query_path: str | None
    result: Any
    poses: dict[str, Any]
    query_pose: Any
    match: Any
    path: np.ndarray | None
    anchored: AnchoredAlignment | None
    export_reason: str | None
    skeleton_export_ok: bool

    # ------------------------------------------------------------------ a match

    @property
    def matches(self) -> list[Any]:
        """The ranked matches of the last query (empty without one)."""
        return [] if self.result is None else list(self.result.results)

    def select(self, match: Any) -> None:
        """Select one of :attr:`matches` (None: none); its optimal path is shown.

        Raises
        ------
        InputError
            ``match`` is not one of the current matches.
        """
        if match is not None and not any(m is match for m in self.matches):
            raise InputError("that match is not one of the current query's matches")
        if match is self.match:
            return
        self.match = match
        self.path = None if match is None else np.asarray(match.alignment.path, np.int64)
        self.anchored = None
        self._notify(self.MATCH)

    @property
    def match_pose(self) -> Any:
        """Landmark track of the selected match (None without one)."""
        return None if self.match is None else self.poses.get(str(self.match.path))

    @property
    def query_times(self) -> np.ndarray:
        """Seconds of each query feature frame (empty without results)."""
        if self.result is None:
            return np.zeros(0)
        return np.asarray(self.result.query.timestamps, dtype=np.float64)

    @property
    def match_times(self) -> np.ndarray:
        """Seconds of each feature frame of the selected match (empty without one)."""
        if self.match is None:
            return np.zeros(0)
        return np.asarray(self.match.features.timestamps, dtype=np.float64)

    @property
    def played_query(self) -> str | None:
        """The query file the player shows beside the match."""
        if self.query_path:
            return self.query_path
        return None if self.result is None else self.result.query_path

    # ------------------------------------------------------------------ anchors

    @property
    def anchors(self) -> tuple[tuple[int, int], ...]:
        """Cells the shown path is pinned through (sorted)."""
        return () if self.anchored is None else self.anchored.anchors

    def pin(self, i: int, j: int) -> AnchoredAlignment:
        """Pin cell ``(i, j)``: the path goes through it and every earlier pin.

        Raises
        ------
        NotReady
            No match is selected, or it has no cost matrix.
        AnchorError
            The pins cannot all be visited by one monotone path (nothing changes).
        """
        if self.match is None or self.match.alignment.cost is None:
            raise NotReady("Select a match first")
        anchored = align_through(self.match.alignment.cost, [*self.anchors, (i, j)])
        self.anchored = anchored
        self.path = anchored.path
        self._notify(self.PATH)
        return anchored

    def clear_pins(self) -> None:
        """Back to the optimal path of the selected match."""
        if self.match is None:
            return
        self.anchored = None
        self.path = np.asarray(self.match.alignment.path, np.int64)
        self._notify(self.PATH)

    def set_path(self, path: np.ndarray, anchors: Any = ()) -> None:
        """The path shown was changed elsewhere (pins placed in the alignment view).

        Parameters
        ----------
        path : numpy.ndarray, shape (L, 2)
        anchors : AnchoredAlignment or sequence, optional
            The pinned alignment it came from, if any.
        """
        if self.match is None:
            return
        self.path = np.asarray(path, np.int64)
        self.anchored = anchors if isinstance(anchors, AnchoredAlignment) else None
        self._notify(self.PATH)

    # ------------------------------------------------------------------ export

    def skeleton_reason(self) -> str:
        """Why skeletons cannot be drawn in the side-by-side export ("" when they can)."""
        return skeleton_reason(
            self.skeleton_export_ok, self.match is not None, self.query_pose, self.match_pose
        )

    @property
    def can_export(self) -> bool:
        """Whether a match is selected and the export core is there."""
        return self.match is not None and self.export_reason is None

    def default_export_path(self, kind: str, videos_dir: str | None = None) -> str:
        """Where the export of ``kind`` is offered to go (outside the library).

        ``videos_dir``: the user's videos folder (see :func:`export_folder`).
        """
        if self.match is None:
            raise NotReady("Select a match first")
        snapshot = getattr(self, "snapshot", None)
        folders = [] if snapshot is None else list(snapshot.folders)
        folder = export_folder(self.played_query, folders, videos_dir)
        return default_export_path(str(self.match.path), kind, folder)

    def export_job(self, kind: str, out: str, *, skeletons: bool = False, **options: Any) -> Job:
        """A job writing the selected pair as ``kind`` to ``out`` (returns the path).

        Parameters
        ----------
        kind : str
            ``"retimed"``, ``"side-by-side"`` or ``"map"``.
        out : str
        skeletons : bool
            Draw both skeletons (side-by-side only, when :meth:`skeleton_reason` is "").
        **options
            Passed on to the export (``burn_in``, ``arrangement``, ``scale``).

        Raises
        ------
        NotReady
            No match selected, or no export core.
        """
        if self.export_reason is not None:
            raise NotReady(self.export_reason)
        if self.match is None or self.result is None:
            raise NotReady("Select a match first")
        draw = skeletons and kind == COMPARISON and not self.skeleton_reason()
        path = self.path if self.path is not None else self.match.alignment.path
        return export_job(
            kind,
            str(self.played_query),
            str(self.match.path),
            path,
            self.query_times,
            self.match_times,
            out,
            query_pose=self.query_pose if draw else None,
            match_pose=self.match_pose if draw else None,
            **options,
        )
