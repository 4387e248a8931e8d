"""The synced player's clock, without Qt: which frame each side shows, and when.

One clock runs in *query time* (seconds in the query file) between a ``start`` and an
``end``. At clock time ``t``:

* the query shows its frame on screen at ``t + query.offset`` (the last frame whose
  timestamp is not after it, :func:`frame_at`);
* the match shows the frame the export pairs with the query frame on screen at ``t``
  (the query nudge left out): the time map sends that frame's timestamp to match
  seconds, the match nudge is added, and the nearest match frame is taken
  (:func:`~avr_gui.core.export.framemap.nearest_frames`). Without nudges this is
  exactly :func:`~avr_gui.core.export.framemap.frame_map`'s row, at every instant of
  that query frame: what the player shows is what an export writes.

Frame steps and nudges of one side change only that side's offset, so the two can be
lined up by hand; :meth:`PlaybackClock.show_pair` pins the match to a given time until
the next play, seek or step. The clock reads time from an injected ``now()`` callable,
so tests drive it without timers; the GUI (:class:`avr_gui.gui.player.SyncedPlayer`)
ticks it and draws what it names.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from avr_gui.core.export.framemap import TimeMap, nearest_frames
from avr_gui.core.timecode import timecode

#: A frame is on screen from its timestamp on; a microsecond of slack keeps a time
#: computed as "frame k's timestamp" (``times[k] - offset + offset``) on frame k.
EPS = 1e-6
#: Frame length assumed for a clip of a single frame.
SINGLE_FRAME_S = 1 / 30
#: How close to an end counts as "at the end" when playing starts (seconds).
_END_SLACK = 1e-3
#: Distance kept from ``end`` by a seek: ``end`` itself is the first instant after it.
_SEEK_SLACK = 1e-6
SIDES = ("query", "match")


def frame_at(times: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Index of the frame on screen at time(s) ``t``: the last one that has started.

    Parameters
    ----------
    times : numpy.ndarray, shape (N,)
        Presentation time of every frame (seconds), increasing.
    t : float or array_like, shape (K,)
        Seconds on the same clock.

    Returns
    -------
    numpy.ndarray, shape (K,) (0-d for a float), int64
        In ``0 .. N-1``: times before the first frame show frame 0, after the last the
        last frame.
    """
    idx = np.searchsorted(times, np.asarray(t, dtype=np.float64) + EPS, side="right") - 1
    return np.clip(idx, 0, len(times) - 1).astype(np.int64)


def frame_duration(times: np.ndarray, index: int) -> float:
    """How long frame ``index`` stays on screen (the last frame: as long as the one before).

    Parameters
    ----------
    times : numpy.ndarray, shape (N,)
        Presentation time of every frame, increasing.
    index : int
        Clipped to ``0 .. N-1``.

    Returns
    -------
    float
        Seconds; :data:`SINGLE_FRAME_S` for a clip of one frame.
    """
    if len(times) < 2:
        return SINGLE_FRAME_S
    k = min(max(index, 0), len(times) - 2)
    return float(times[k + 1] - times[k])


@dataclass
class Track:
    """One side of the player: its frame times and its nudge.

    Attributes
    ----------
    times : numpy.ndarray, shape (N,), float64, or None
        Presentation time of every frame; None until the video has opened.
    offset : float
        Nudge in seconds added to this side's time (frame steps of one side set it).
    """

    times: np.ndarray | None = None
    offset: float = 0.0

    def index_at(self, t: np.ndarray | float) -> np.ndarray:
        """Frame on screen at time(s) ``t`` of this clip (see :func:`frame_at`)."""
        assert self.times is not None
        return frame_at(self.times, t)

    def frame_step(self, index: int) -> float:
        """Duration of frame ``index`` (see :func:`frame_duration`)."""
        assert self.times is not None
        return frame_duration(self.times, index)


@dataclass(frozen=True)
class Shown:
    """What the player shows at one clock time.

    Attributes
    ----------
    query_index : int
    match_index : int or None
        None without a (loaded, opened) match.
    query_time : float
        Query seconds shown: clock time plus the query nudge.
    match_time : float
        Match seconds shown (before the choice of the nearest frame); NaN without a
        match.
    """

    query_index: int
    match_index: int | None
    query_time: float
    match_time: float


class PlaybackClock:
    """Play, pause, speed, seek, loop, steps and nudges of the synced player.

    Parameters
    ----------
    now : callable, optional
        Monotonic seconds (default :func:`time.perf_counter`); tests pass a fake.

    Attributes
    ----------
    query, match : Track
        Frame times and nudges of both sides; ``match.times`` is None without a match.
    time_map : TimeMap or None
        Query seconds -> match seconds; None plays the match on the query's clock.
    start, end : float
        The playable span in query seconds (``end`` excluded).
    position : float
        Clock time now (query seconds, before the query nudge).
    rate : float
        Speed; negative plays backwards.
    loop : bool
        Wrap around at the ends while playing (else stop there).
    playing : bool
    match_override : float or None
        Match seconds pinned by :meth:`show_pair`.
    """

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.query = Track()
        self.match = Track()
        self.time_map: TimeMap | None = None
        self.start = 0.0
        self.end = 0.0
        self.position = 0.0
        self.rate = 1.0
        self.loop = True
        self.playing = False
        self.match_override: float | None = None
        self._origin = 0.0  # now() when the clock was last (re)started
        self._origin_pos = 0.0  # position at that moment

    # ------------------------------------------------------------------ span

    def fit_span(self, span: tuple[float, float] | None = None) -> None:
        """Set ``start`` and ``end`` for the opened query and rewind to ``start``.

        Parameters
        ----------
        span : (float, float), optional
            Query seconds to play. Default: the time map's span (plus one map step:
            its last point stays on screen that long), else the whole query. Always
            kept inside the query's frames, and at least one query frame long.
        """
        qt = self.query.times
        assert qt is not None
        step = frame_duration(qt, len(qt) - 1)
        if span is None and self.time_map is not None:
            x = self.time_map.x
            gaps = np.diff(x)
            span = (float(x[0]), float(x[-1]) + (float(np.median(gaps)) if len(gaps) else step))
        if span is None:
            span = (float(qt[0]), float(qt[-1]) + step)
        self.start = max(float(span[0]), float(qt[0]))
        self.end = min(max(float(span[1]), self.start + step), float(qt[-1]) + step)
        self.position = self.start

    def span_frames(self) -> tuple[int, int]:
        """Query frames into the span at the position, and query frames in the span.

        Counted on the query's frame times, not seconds times a rate: a container that
        rounds times to the millisecond (Matroska at 29.97 fps) would otherwise read
        frame 200 as 199. ``(0, 0)`` until the query has opened.

        Returns
        -------
        (int, int)
        """
        qt = self.query.times
        if qt is None or not len(qt):
            return 0, 0
        first = int(frame_at(qt, self.start))
        done = int(frame_at(qt, self.position)) - first
        total = int(frame_at(qt, self.end - _SEEK_SLACK)) - first + 1
        return max(done, 0), total

    def elapsed_timecode(self, rate: float) -> str:
        """``"00:00:01:12 / 00:00:05:07"``: into the span / its length (:meth:`span_frames`).

        SMPTE timecode at the query's ``rate`` (:func:`avr_gui.core.timecode.timecode`);
        the player and the grid both say their time this way.
        """
        done, total = self.span_frames()
        return f"{timecode(done, rate)} / {timecode(total, rate)}"

    # ------------------------------------------------------------------ transport

    def _restart(self) -> None:
        self._origin, self._origin_pos = self.now(), self.position

    def play(self, rate: float | None = None) -> None:
        """Start at ``rate`` (or the current one); from an end, rewind to the other."""
        if rate is not None:
            self.rate = float(rate)
        if self.rate > 0 and self.position >= self.end - _END_SLACK:
            self.position = self.start
        if self.rate < 0 and self.position <= self.start + _END_SLACK:
            self.position = self.end - _END_SLACK
        self.match_override = None
        self.playing = True
        self._restart()

    def pause(self) -> None:
        """Stop where the clock is."""
        self.playing = False

    def set_rate(self, rate: float) -> None:
        """Speed (1 = real time); keeps the direction when playing backwards."""
        sign = -1.0 if self.rate < 0 else 1.0
        self.rate = sign * float(rate)
        if self.playing:
            self._restart()

    def seek(self, t: float) -> None:
        """Move to query time ``t``, kept inside ``[start, end)``; ends a :meth:`show_pair`."""
        self.match_override = None
        self.position = min(max(float(t), self.start), max(self.start, self.end - _SEEK_SLACK))
        if self.playing:
            self._restart()

    def advance(self, now: float | None = None) -> bool:
        """Move the position to where a playing clock is at ``now``.

        Parameters
        ----------
        now : float, optional
            Default: ``self.now()``.

        Returns
        -------
        bool
            False when the clock ran off an end without :attr:`loop`: the position is
            left on that end and the caller should pause. True otherwise (also when
            not playing: nothing moves).
        """
        if not self.playing:
            return True
        now = self.now() if now is None else now
        t = self._origin_pos + (now - self._origin) * self.rate
        if self.start <= t < self.end:
            self.position = t
            return True
        if not self.loop:
            self.position = self.end - _SEEK_SLACK if t >= self.end else self.start
            return False
        length = self.end - self.start
        self.position = self.start + ((t - self.start) % length if length > 0 else 0.0)
        self._origin, self._origin_pos = now, self.position
        return True

    def show_pair(self, query_time: float, match_time: float) -> None:
        """Pause on query seconds ``query_time`` beside match seconds ``match_time``."""
        self.pause()
        self.seek(query_time - self.query.offset)
        self.match_override = float(match_time)

    def step(self, frames: int) -> None:
        """Pause and move both sides by ``frames`` query frames."""
        self.pause()
        qt = self.query.times
        if qt is None:
            return
        i = int(self.query.index_at(self.position + self.query.offset))
        j = min(max(i + frames, 0), len(qt) - 1)
        self.seek(float(qt[j]) - self.query.offset)

    def step_side(self, side: str, frames: int) -> float | None:
        """Pause and move one side alone by ``frames`` of its own frames (a nudge).

        Returns
        -------
        float or None
            The side's new offset (seconds); None when that side has no frames.
        """
        self.pause()
        track = self.track(side)
        if track.times is None:
            return None
        base = float(self.base_time(side))
        if side == "query":
            i = int(track.index_at(base + track.offset))
        else:
            i = int(nearest_frames(np.asarray([base + track.offset]), track.times)[0])
        j = min(max(i + frames, 0), len(track.times) - 1)
        track.offset = float(track.times[j]) - base
        return track.offset

    def track(self, side: str) -> Track:
        """The :class:`Track` of ``"query"`` or ``"match"``."""
        if side not in SIDES:
            raise ValueError(f"side must be 'query' or 'match', got {side!r}")
        return self.query if side == "query" else self.match

    # ------------------------------------------------------------------ what is shown

    def base_time(self, side: str, t: np.ndarray | float | None = None) -> np.ndarray:
        """Seconds of one side's clip at clock time(s) ``t``, before its nudge.

        Parameters
        ----------
        side : {"query", "match"}
        t : float or array_like, shape (K,), optional
            Clock times; default the position.

        Returns
        -------
        numpy.ndarray, shape (K,) (0-d for a float), float64
            The query: ``t`` itself. The match: the pinned time of a
            :meth:`show_pair`, else the time map at the timestamp of the query frame on
            screen at ``t`` without the query nudge (see the module notes).
        """
        tt = np.asarray(self.position if t is None else t, dtype=np.float64)
        if side == "query":
            return tt
        self.track(side)  # refuse a bad name here too
        if self.match_override is not None:
            return np.full(tt.shape, self.match_override)
        qt = self.query.times
        assert qt is not None
        # Hold one match time for the whole of a query frame, as the export does.
        frame_time = qt[frame_at(qt, tt)]
        return frame_time if self.time_map is None else self.time_map(frame_time)

    def match_indices(self, t: np.ndarray | float) -> np.ndarray:
        """Match frame at clock time(s) ``t`` (the match must be open).

        Parameters
        ----------
        t : float or array_like, shape (K,)

        Returns
        -------
        numpy.ndarray, shape (K,), int64
        """
        assert self.match.times is not None
        tm = np.atleast_1d(self.base_time("match", t)) + self.match.offset
        return nearest_frames(tm, self.match.times)

    def shown(self, t: float | None = None) -> Shown:
        """Frames and times on screen at clock time ``t`` (default: the position)."""
        t = self.position if t is None else float(t)
        tq = t + self.query.offset
        qi = int(self.query.index_at(tq))
        if self.match.times is None:
            return Shown(qi, None, tq, float("nan"))
        tm = float(self.base_time("match", t)) + self.match.offset
        return Shown(qi, int(nearest_frames(np.asarray([tm]), self.match.times)[0]), tq, tm)

    def lookahead(self, count: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Frames each side will show next, for the decoders to prepare.

        Parameters
        ----------
        count : int
            Query frames ahead (in the playing direction, at the playing speed).

        Returns
        -------
        query : numpy.ndarray, shape (count + 1,), int64
            Starting with the frame on screen now.
        match : numpy.ndarray, shape (count + 1,) or (1,), int64, or None
            None without a match; one frame while :meth:`show_pair` pins it.
        """
        assert self.query.times is not None
        step = self.query.frame_step(int(self.query.index_at(self.position)))
        direction = -1.0 if (self.playing and self.rate < 0) else 1.0
        span = step * max(1.0, abs(self.rate) if self.playing else 1.0)
        ts = self.position + direction * span * np.arange(count + 1)
        length = self.end - self.start
        if self.playing and self.loop and length > 0:
            ts = self.start + np.mod(ts - self.start, length)
        qidx = self.query.index_at(ts + self.query.offset)
        if self.match.times is None:
            return qidx, None
        if self.match_override is not None:
            return qidx, self.match_indices(self.position)
        return qidx, self.match_indices(ts)
