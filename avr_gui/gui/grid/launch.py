"""The grid of the main window's current query and its best matches."""

from __future__ import annotations

from typing import Any

import numpy as np

from avr_gui.core.export.framemap import TimeMap
from avr_gui.core.workspace.exports import export_folder
from avr_gui.gui.export_dialog import library_folders, videos_dir
from avr_gui.gui.grid.window import GridWindow, TileSpec, tile_name

#: Matches the grid shows by default (with the query: a 2x2 grid).
DEFAULT_MATCHES = 3


def tiles_from_workspace(ws: Any, count: int = DEFAULT_MATCHES) -> tuple[TileSpec, list[TileSpec]]:
    """The query and the best ``count`` matches of a workspace, with their time maps.

    The selected match keeps the path shown for it (through pinned anchors); the others
    their optimal paths.

    Parameters
    ----------
    ws : Workspace
    count : int

    Returns
    -------
    (TileSpec, list of TileSpec)

    Raises
    ------
    ValueError
        No query or no matches.
    """
    query = ws.played_query
    if query is None or not ws.matches:
        raise ValueError("Find matches first: the grid shows the query and its best matches")
    qt = ws.query_times
    tiles = []
    for m in ws.matches[:count]:
        path = ws.path if (m is ws.match and ws.path is not None) else m.alignment.path
        mt = np.asarray(m.features.timestamps, dtype=np.float64)
        tiles.append(TileSpec(tile_name(str(m.path)), str(m.path), TimeMap.from_path(path, qt, mt)))
    return TileSpec(tile_name(query), str(query)), tiles


def open_grid(win: Any, count: int = DEFAULT_MATCHES) -> GridWindow | None:
    """Open (or reopen) the grid of ``win``'s query and its best matches.

    Parameters
    ----------
    win : MainWindow
    count : int
        Matches shown (2 to 4 make a grid of 3 to 5 tiles).

    Returns
    -------
    GridWindow or None
        None when there are no matches yet (the status bar says so).
    """
    try:
        query, matches = tiles_from_workspace(win.ws, count)
    except ValueError as exc:
        win.statusBar().showMessage(str(exc), 8000)
        return None
    old = getattr(win, "grid_window", None)
    if old is not None:
        old.close()
        old.deleteLater()
    win.player.pause()
    folder = export_folder(win.ws.played_query, library_folders(win.ws), videos_dir())
    grid = GridWindow(query, matches, runner=win.runner, export_folder=folder, parent=win)
    win.grid_window = grid
    grid.show()
    grid.raise_()
    grid.activateWindow()
    return grid
