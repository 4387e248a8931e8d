"""The grid's clock, without Qt: one query clock, and the frame every tile shows at it.

The query's :class:`~avr_gui.core.playback.PlaybackClock` keeps time (play, pause,
speed, seek, loop, steps) over the whole query. Each tile's frame beside query frame
``i`` is row ``i`` of :func:`~avr_gui.core.export.grid.tile_frames`, the very table the
grid export writes from (its time map, then its nudge in its own frames), so what the
grid shows paused is what the export writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from avr_gui.core.export.framemap import TimeMap
from avr_gui.core.export.grid import tile_frames
from avr_gui.core.playback import PlaybackClock


class GridClock:
    """Time of a grid of the query (tile 0) and matches, each with its own time map.

    Parameters
    ----------
    maps : sequence of TimeMap or None
        One per tile: None for the query's own tile, else query seconds -> that
        clip's seconds.
    now : callable, optional
        Monotonic seconds (tests pass a fake).

    Attributes
    ----------
    clock : PlaybackClock
        The query's clock (no match of its own).
    nudges : list of int
        Per tile: frames of its clip added after its time map.
    """

    def __init__(
        self, maps: Sequence[TimeMap | None], now: Callable[[], float] = time.perf_counter
    ) -> None:
        self.clock = PlaybackClock(now)
        self.maps = list(maps)
        self.nudges = [0] * len(self.maps)
        self.times: list[np.ndarray | None] = [None] * len(self.maps)
        self._tables: list[np.ndarray | None] = [None] * len(self.maps)

    def __len__(self) -> int:
        return len(self.maps)

    @property
    def ready(self) -> bool:
        """Whether every tile's video has opened (its frame times are known)."""
        return all(t is not None for t in self.times)

    def opened(self, tile: int, times: np.ndarray) -> None:
        """Tile ``tile``'s video opened with these frame times ``[M]`` (seconds).

        Once all have, the clock spans the whole query and rewinds to its start.
        """
        self.times[tile] = np.asarray(times, dtype=np.float64)
        if tile == 0:
            self.clock.query.times = self.times[0]
        if self.ready:
            qt = self.times[0]
            assert qt is not None
            self._tables = [
                tile_frames(m, qt, t, 0) if t is not None else None
                for m, t in zip(self.maps, self.times, strict=True)
            ]
            self.clock.fit_span(None)

    def frames(self, query_frames: np.ndarray | int) -> list[np.ndarray]:
        """Each tile's frame beside these query frames.

        Parameters
        ----------
        query_frames : int or array_like, shape (K,)

        Returns
        -------
        list of numpy.ndarray, shape (K,) (0-d for an int), int64
            One per tile, in that clip's frames.
        """
        q = np.asarray(query_frames, dtype=np.int64)
        out = []
        for table, times, nudge in zip(self._tables, self.times, self.nudges, strict=True):
            assert table is not None and times is not None, "not every tile has opened"
            # The export's rule: the nudged frame, kept inside the clip.
            out.append(np.clip(table[q] + nudge, 0, len(times) - 1).astype(np.int64))
        return out

    def query_frame(self, t: float | None = None) -> int:
        """The query frame on screen at clock time ``t`` (default: now)."""
        pos = self.clock.position if t is None else t
        return int(self.clock.query.index_at(pos))

    def shown(self, t: float | None = None) -> list[int]:
        """Each tile's frame at clock time ``t`` (default: the position)."""
        return [int(f) for f in self.frames(self.query_frame(t))]

    def lookahead(self, count: int) -> list[np.ndarray]:
        """Each tile's next ``count + 1`` frames at the playing speed and direction."""
        qidx, _ = self.clock.lookahead(count)
        return self.frames(qidx)

    def nudge(self, tile: int, frames: int) -> int:
        """Move one tile alone by ``frames`` of its own frames; returns its nudge."""
        self.nudges[tile] += int(frames)
        return self.nudges[tile]
