"""Export jobs for the selected pair and for the grid of top matches.

The export core arrived separately; when it is missing (an older install) the export
actions stay disabled and their tooltip says why (:func:`export_unavailable_reason`).

Exports are offered a folder *outside* the library (:func:`export_folder`): a file
written into a library folder would be indexed, and found as a match, next time.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: What the export menu offers: (label, export mode or "map", file-dialog filter).
KINDS = (
    ("Export re-timed match…", "retimed", "Video (*.mp4 *.mov *.mkv)"),
    ("Export side by side…", "side-by-side", "Video (*.mp4 *.mov *.mkv)"),
    ("Save time map…", "map", "Time map (*.json *.csv)"),
)


#: The export kind the "draw skeletons" option applies to (the two clips side by side).
COMPARISON = "side-by-side"


#: The folder of exports under the user's videos folder.
EXPORTS_FOLDER = "AVR exports"


def _inside(path: Path, folders: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``folders`` or below one (links resolved)."""
    p = path.resolve()
    for f in folders:
        root = Path(f).resolve()
        if p == root or root in p.parents:
            return True
    return False


def export_folder(
    query_path: str | None, library_folders: Sequence[str], videos_dir: str | None = None
) -> str:
    """The folder an export is offered to go to: never inside the library.

    Parameters
    ----------
    query_path : str or None
        The query file: its folder is used when it is outside every library folder
        and writable (the user's own working folder).
    library_folders : sequence of str
        The library's folders (and anything else exports must stay out of).
    videos_dir : str, optional
        The user's videos folder (the GUI passes Qt's; default ``~/Videos``).

    Returns
    -------
    str
        The query's folder, else ``<videos_dir>/AVR exports`` (which may not exist yet:
        the caller creates it when it writes there).
    """
    if query_path:
        folder = Path(query_path).parent
        if folder.is_dir() and os.access(folder, os.W_OK) and not _inside(folder, library_folders):
            return str(folder)
    base = Path(videos_dir) if videos_dir else Path.home() / "Videos"
    return str(base / EXPORTS_FOLDER)


def default_export_path(match_path: str, kind: str, folder: str | None = None) -> str:
    """Where an export of ``kind`` is offered to go, named after the match.

    Parameters
    ----------
    match_path : str
        The match's video file.
    kind : str
        An export mode, ``"grid"`` or ``"map"``.
    folder : str, optional
        The folder (see :func:`export_folder`); default: beside the match.

    Returns
    -------
    str
        ``<folder>/<match stem>_<kind>.mp4`` (``.json`` for a time map).
    """
    suffix = ".json" if kind == "map" else ".mp4"
    p = Path(match_path)
    return str(Path(folder or p.parent) / f"{p.stem}_{kind}{suffix}")


def skeleton_reason(supported: bool, selected: bool, query_pose: Any, match_pose: Any) -> str:
    """Why skeletons cannot be drawn in the side-by-side export ("" when they can).

    Parameters
    ----------
    supported : bool
        :func:`skeleton_export_supported`.
    selected : bool
        Whether a match is selected.
    query_pose, match_pose : PoseTrack or None
        The two clips' landmark tracks.

    Returns
    -------
    str
    """
    if not supported:
        return "This build's export cannot draw skeletons yet"
    if not selected:
        return "Select a match first"
    if query_pose is None or match_pose is None:
        return "Both clips need a tracked person (a library indexed with a pose encoder)"
    return ""


def export_unavailable_reason() -> str | None:
    """``None`` when the export core can be used, else a sentence saying why not."""
    try:
        mod = importlib.import_module("avr_gui.core.export")
    except ImportError as exc:
        return f"Export is not available in this build (avr_gui.core.export: {exc})"
    for name in ("export_video", "curve_from_path", "frame_map", "frame_times", "save_map"):
        if not hasattr(mod, name):
            return f"Export is not available yet: avr_gui.core.export has no {name}"
    return None


def skeleton_export_supported() -> bool:
    """Whether :func:`avr_gui.core.export.export_video` can draw skeletons."""
    try:
        mod = importlib.import_module("avr_gui.core.export")
        params = inspect.signature(mod.export_video).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return False
    return all(k in params for k in ("skeleton", "query_pose", "match_pose"))


def export_job(
    kind: str,
    query: str,
    match: str,
    path: np.ndarray,
    query_sample_times: np.ndarray,
    match_sample_times: np.ndarray,
    out: str,
    *,
    query_pose: Any = None,
    match_pose: Any = None,
    **options: Any,
) -> Callable[[Any, Any], Any]:
    """A worker job ``fn(progress, cancel)`` that writes one export of the pair.

    Parameters
    ----------
    kind : str
        An export mode of :func:`avr_gui.core.export.export_video` or ``"map"``.
    query, match : str
        Video files.
    path : numpy.ndarray, shape (L, 2)
        The (possibly anchored) alignment path in feature-frame indices.
    query_sample_times : numpy.ndarray, shape (n,)
    match_sample_times : numpy.ndarray, shape (m,)
    out : str
        Output file.
    query_pose, match_pose : PoseTrack, optional
        Given both: each clip's skeleton is drawn on its frames (video exports only).
    **options
        Passed to :func:`~avr_gui.core.export.export_video` (``burn_in``,
        ``arrangement``, ``scale``, ...; video exports only).
    """
    import avr_gui.core.export as ex

    def run(progress, cancel):
        curve = ex.curve_from_path(path, query_sample_times, match_sample_times)
        fmap = ex.frame_map(curve, ex.frame_times(query), ex.frame_times(match))
        if kind == "map":
            ex.save_map(out, fmap, {"query": query, "match": match})
            return out
        extra: dict[str, Any] = dict(options)
        if query_pose is not None and match_pose is not None:
            extra.update(skeleton=True, query_pose=query_pose, match_pose=match_pose)
        result = ex.export_video(
            query,
            match,
            out,
            fmap,
            mode=kind,
            curve=curve,
            progress=progress,
            cancel=cancel,
            **extra,
        )
        return str(result.path)

    return run


def grid_job(
    query: str,
    matches: Sequence[tuple[str, Any]],
    out: str,
    **options: Any,
) -> Callable[[Any, Any], Any]:
    """A worker job ``fn(progress, cancel)`` writing the grid of ``query`` and ``matches``.

    Parameters
    ----------
    query : str
    matches : sequence of (str, TimeMap)
        Each match's file and its query -> match time map (as the grid player shows it).
    out : str
    **options
        Passed to :func:`~avr_gui.core.export.export_grid` (``nudges``, ``names``,
        ``burn_in``, ``tile_height``, ``columns``, ``audio``).

    Returns
    -------
    callable
        Returns the written path.
    """
    import avr_gui.core.export as ex

    def run(progress, cancel):
        result = ex.export_grid(query, matches, out, progress=progress, cancel=cancel, **options)
        return str(result.path)

    return run
