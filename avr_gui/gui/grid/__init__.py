"""Several matches in sync: the query and its best matches tiled, each re-timed to it.

* :mod:`.window` — :class:`GridWindow`, the tiles, the transport and the export;
* :mod:`.tile` — one tile: its picture, caption, nudge and hide controls;
* :mod:`.clock` — :class:`GridClock`, which frame every tile shows (Qt-free);
* :mod:`.launch` — :func:`open_grid`, the grid of the main window's current matches.
"""

from avr_gui.gui.grid.clock import GridClock
from avr_gui.gui.grid.launch import open_grid, tiles_from_workspace
from avr_gui.gui.grid.window import GridWindow, TileSpec

__all__ = ["GridClock", "GridWindow", "TileSpec", "open_grid", "tiles_from_workspace"]
