"""The synced player: the query and the re-timed match, side by side or overlaid.

* :mod:`.widget` — :class:`SyncedPlayer`, the widget (ticks the clock, paints frames);
* :mod:`.canvas` — :class:`VideoCanvas` and the :class:`ViewMode` layouts;
* :mod:`.controls` — transport, speed, loop, view mode and nudge controls;
* :mod:`.side` — one side's decoder state, :class:`PlaybackStats`, captions.

The clock itself (which frame each side shows when) is Qt-free:
:mod:`avr_gui.core.playback`. ``TimeMap`` is the program's one time-map type,
:class:`avr_gui.core.export.framemap.TimeMap`, re-exported here for the player's callers.
"""

from avr_gui.core.export.framemap import TimeMap
from avr_gui.gui.player.canvas import VideoCanvas, ViewMode
from avr_gui.gui.player.controls import SPEEDS
from avr_gui.gui.player.side import PlaybackStats
from avr_gui.gui.player.widget import SyncedPlayer

__all__ = ["SPEEDS", "PlaybackStats", "SyncedPlayer", "TimeMap", "VideoCanvas", "ViewMode"]
