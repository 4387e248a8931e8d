"""From an alignment on sampled frames to one match frame for every frame of the query.

The alignment runs on frames sampled at about 10 fps; an export needs a partner for
*every* frame of the kept clip at its own rate. A :class:`TimeMap` is the monotone,
piecewise-linear map from query seconds to match seconds through the sampled pairs; a
:class:`FrameMap` samples it at each query frame's real timestamp and names the match
frame (in the match file's own numbering) whose timestamp is nearest.

:class:`TimeMap` is the one time-map type of the program: the synced player
(:mod:`avr_gui.core.playback`), the export, the CLI and the time-map files all use it,
with one rule at the ends and one rule for picking a frame, so that the player and an
export show the same match frame beside every query frame. ``WarpCurve`` is its older
name, kept as an alias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avr_gui.core.align.timemap import time_map_table
from avr_gui.core.errors import InputError, ShapeError

_TIME_EPS = 1e-9  # seconds


def _as_times(values: np.ndarray, name: str) -> np.ndarray:
    t = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ShapeError(f"{name} must be a non-empty 1-D array of seconds, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise InputError(f"{name} must be finite")
    if (np.diff(t) < 0).any():
        raise InputError(f"{name} must be non-decreasing")
    return t


def nearest_frames(times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    """Index of the frame whose timestamp is nearest to each time (ties: the earlier frame).

    This is the one rule by which a time becomes a match frame: the export's
    :func:`frame_map` and the player's clock (:mod:`avr_gui.core.playback`) both use it.

    Parameters
    ----------
    times : array_like, shape (K,)
        Seconds, any order.
    frame_times : array_like, shape (N,)
        Presentation time of every frame, increasing.

    Returns
    -------
    numpy.ndarray, shape (K,), int64
        In ``0 .. N-1``; non-decreasing where ``times`` is.
    """
    ft = _as_times(frame_times, "frame_times")
    t = np.asarray(times, dtype=np.float64)
    right = np.clip(np.searchsorted(ft, t, side="left"), 0, ft.size - 1)
    left = np.clip(right - 1, 0, ft.size - 1)
    # Ties go to the earlier frame so that exactly-between times stay monotone. A tie
    # is judged within a nanosecond: a time computed as "half a frame past frame k"
    # (1.05 s x 1.5 = 1.5750000000000002) must not land on k + 1 by rounding, or two
    # computations of the same instant could pick different frames.
    take_left = np.abs(t - ft[left]) <= np.abs(ft[right] - t) + _TIME_EPS
    return np.where(take_left, left, right).astype(np.int64)


@dataclass(frozen=True)
class TimeMap:
    """Monotone piecewise-linear map from seconds of one clip to seconds of the other.

    Usually query seconds to match seconds (:meth:`from_path`); :meth:`inverse` gives
    the map back.

    Attributes
    ----------
    x : numpy.ndarray, shape (K,), float64
        Control times in the source clip (seconds), strictly increasing.
    y : numpy.ndarray, shape (K,), float64
        Partner times in the target clip (seconds), non-decreasing.

    Notes
    -----
    **The end rule.** Outside ``[x[0], x[-1]]`` the map continues at unit rate:
    ``y[0] + (t - x[0])`` before the first point, ``y[-1] + (t - x[-1])`` after the
    last. Both clips simply play on in real time where the alignment says nothing:

    * Every alignment ends there: its last sampled frame (10 fps) is up to a sampling
      step before the query's last frame (2 frames at 30 fps, 5 at 60). Holding the
      match still there (clamping) would freeze the end of every export and player
      clip, and never show the match's own last frames even when the two clips end
      together; continuing lets the match run out with the query.
    * Before or after a partial alignment the data hold no speed to keep: the overall
      slope of the aligned part (the previous rule) could fast-forward or crawl through
      seconds of unaligned lead-in, while real time is what playing the files shows.
    * Nothing is invented past the match file's ends: a time before its first frame or
      after its last picks that first or last frame (:func:`nearest_frames`).
    * The rule is its own inverse, so :meth:`inverse` maps back to where it came from.
    """

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        x = _as_times(self.x, "time map x")
        y = _as_times(self.y, "time map y")
        if x.shape != y.shape:
            raise ShapeError(f"time map x and y differ in length: {x.size} vs {y.size}")
        if (np.diff(x) <= 0).any():
            raise InputError("time map x must be strictly increasing")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @classmethod
    def from_path(
        cls, path: np.ndarray, query_sample_times: np.ndarray, match_sample_times: np.ndarray
    ) -> TimeMap:
        """The query -> match time map of a DTW path on sampled frames.

        Each sampled query frame is paired with the mean of its partners on the path
        (the query stays unwarped), in seconds of the match file.

        Parameters
        ----------
        path : array_like, shape (L, 2)
            ``[query_index, match_index]`` cells in sampled-frame indices
            (``Alignment.path``); it may start and end anywhere (a partial alignment).
        query_sample_times : array_like, shape (n,)
            Source time of each sampled query frame (``FeatureSequence.timestamps``).
        match_sample_times : array_like, shape (m,)
            Source time of each sampled match frame.

        Returns
        -------
        TimeMap
            One point per sampled query frame from the path's first to its last.
        """
        table = time_map_table(path, query_sample_times, match_sample_times, keep="query")
        return cls(table["query_time"], table["match_time"])

    @property
    def slope(self) -> float:
        """End-to-end speed (target seconds per source second); 1 for a single point.

        Descriptive only: outside its points the map runs at unit rate (see Notes).
        """
        span = self.x[-1] - self.x[0]
        return float((self.y[-1] - self.y[0]) / span) if span > 0 else 1.0

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        """Target time of each source time.

        Parameters
        ----------
        t : float or array_like, shape (K,)

        Returns
        -------
        numpy.ndarray, shape (K,) (0-d for a float), float64
        """
        tt = np.asarray(t, dtype=np.float64)
        out = np.interp(tt, self.x, self.y)
        out = np.where(tt < self.x[0], self.y[0] + (tt - self.x[0]), out)
        return np.where(tt > self.x[-1], self.y[-1] + (tt - self.x[-1]), out)

    def target_frames(self, t: np.ndarray, target_frame_times: np.ndarray) -> np.ndarray:
        """The target-clip frame shown at each source time: the nearest to its image.

        Parameters
        ----------
        t : array_like, shape (K,)
            Source seconds (e.g. the query's frame timestamps).
        target_frame_times : array_like, shape (M,)
            Presentation time of every target frame, increasing.

        Returns
        -------
        numpy.ndarray, shape (K,), int64
            In ``0 .. M-1``; non-decreasing where ``t`` is.
        """
        return nearest_frames(self(t), target_frame_times)

    def strict(self) -> TimeMap:
        """The curve with each run of equal ``y`` merged into one point at its mean ``x``.

        The result is strictly increasing in both coordinates: invertible, and smooth
        enough to drive audio (a held frame becomes a slow stretch, not a stop).
        """
        # Steps below a nanosecond are rounding, not motion (and would make the inverse
        # slope overflow).
        starts = np.flatnonzero(np.r_[True, np.diff(self.y) > _TIME_EPS])
        counts = np.diff(np.r_[starts, self.y.size])
        x = np.add.reduceat(self.x, starts) / counts
        return TimeMap(x, self.y[starts])

    def inverse(self) -> TimeMap:
        """The map from target seconds back to source seconds (of :meth:`strict`)."""
        s = self.strict()
        return TimeMap(s.y, s.x)


#: The older name of :class:`TimeMap` (the same class).
WarpCurve = TimeMap


@dataclass(frozen=True)
class FrameMap:
    """One row per query frame: which match frame plays at it.

    Attributes
    ----------
    query_frame : numpy.ndarray, shape (N,), int64
        ``0 .. N-1``: every frame of the query in presentation order.
    query_time : numpy.ndarray, shape (N,), float64
        Presentation time of each query frame (seconds from the stream start).
    match_frame : numpy.ndarray, shape (N,), int64
        Frame of the match file (its own presentation-order numbering), non-decreasing.
    match_time : numpy.ndarray, shape (N,), float64
        Presentation time of that match frame.
    """

    query_frame: np.ndarray
    query_time: np.ndarray
    match_frame: np.ndarray
    match_time: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.query_frame)
        if n == 0:
            raise ShapeError("a frame map needs at least one row")
        for name in ("query_time", "match_frame", "match_time"):
            if np.shape(getattr(self, name)) != (n,):
                raise ShapeError(f"frame map column {name} must have {n} rows")

    def __len__(self) -> int:
        return len(self.query_frame)

    def curve(self) -> TimeMap:
        """A smooth query-seconds -> match-seconds map through the rows (for audio)."""
        return TimeMap(self.query_time, self.match_time).strict()

    def check_fits(self, query_count: int, match_count: int, what: str = "time map") -> None:
        """Raise :class:`InputError` unless the map fits clips of these frame counts."""
        if len(self) != query_count:
            raise InputError(
                f"{what} has {len(self)} rows but the query has {query_count} frames: it "
                "belongs to another clip (align again)"
            )
        if self.match_frame.min() < 0 or self.match_frame.max() >= match_count:
            raise InputError(
                f"{what} names match frames {self.match_frame.min()}..{self.match_frame.max()}"
                f" but the match has {match_count} frames: it belongs to another clip"
            )


def frame_map(curve: TimeMap, query_times: np.ndarray, match_times: np.ndarray) -> FrameMap:
    """Sample a time map at every query frame and name the nearest match frame.

    Parameters
    ----------
    curve : TimeMap
        Query seconds -> match seconds.
    query_times : array_like, shape (N,)
        Presentation time of every query frame (e.g. ``FrameReader.times``).
    match_times : array_like, shape (M,)
        Presentation time of every match frame.

    Returns
    -------
    FrameMap
        ``N`` rows.
    """
    qt = _as_times(query_times, "query frame times")
    mt = _as_times(match_times, "match frame times")
    mf = curve.target_frames(qt, mt)
    return FrameMap(np.arange(qt.size, dtype=np.int64), qt, mf, mt[mf])


def curve_from_path(
    path: np.ndarray, query_sample_times: np.ndarray, match_sample_times: np.ndarray
) -> TimeMap:
    """The query -> match time map of a DTW path on sampled frames.

    The same as :meth:`TimeMap.from_path`.

    Parameters
    ----------
    path : array_like, shape (L, 2)
        ``[query_index, match_index]`` cells in sampled-frame indices.
    query_sample_times : array_like, shape (n,)
    match_sample_times : array_like, shape (m,)

    Returns
    -------
    TimeMap
    """
    return TimeMap.from_path(path, query_sample_times, match_sample_times)


def reverse_frames(curve: TimeMap, query_times: np.ndarray, match_times: np.ndarray) -> np.ndarray:
    """For every match frame, the query frame that plays with it (the match unwarped).

    Parameters
    ----------
    curve : TimeMap
        Query seconds -> match seconds.
    query_times : array_like, shape (N,)
    match_times : array_like, shape (M,)

    Returns
    -------
    numpy.ndarray, shape (M,), int64
        Query frame numbers, non-decreasing.
    """
    mt = _as_times(match_times, "match frame times")
    return nearest_frames(curve.inverse()(mt), query_times)
