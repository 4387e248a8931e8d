"""From an alignment on sampled frames to one match frame for every frame of the query.

The alignment runs on frames sampled at about 10 fps; an export needs a partner for
*every* frame of the kept clip at its own rate. A :class:`WarpCurve` is the monotone,
piecewise-linear map from query seconds to match seconds through the sampled pairs; a
:class:`FrameMap` samples it at each query frame's real timestamp and names the match
frame (in the match file's own numbering) whose timestamp is nearest.
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
    # Ties go to the earlier frame so that exactly-between times stay monotone.
    take_left = np.abs(t - ft[left]) <= np.abs(ft[right] - t)
    return np.where(take_left, left, right).astype(np.int64)


@dataclass(frozen=True)
class WarpCurve:
    """Monotone piecewise-linear map from seconds of one clip to seconds of the other.

    Attributes
    ----------
    x : numpy.ndarray, shape (K,), float64
        Control times in the source clip (seconds), strictly increasing.
    y : numpy.ndarray, shape (K,), float64
        Partner times in the target clip (seconds), non-decreasing.

    Notes
    -----
    Outside ``[x[0], x[-1]]`` the curve continues with its end-to-end slope (1 when it
    has a single point), so the few frames after the last sampled frame keep moving.
    """

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        x = _as_times(self.x, "warp curve x")
        y = _as_times(self.y, "warp curve y")
        if x.shape != y.shape:
            raise ShapeError(f"warp curve x and y differ in length: {x.size} vs {y.size}")
        if (np.diff(x) <= 0).any():
            raise InputError("warp curve x must be strictly increasing")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @property
    def slope(self) -> float:
        """End-to-end speed (target seconds per source second); 1 for a single point."""
        span = self.x[-1] - self.x[0]
        return float((self.y[-1] - self.y[0]) / span) if span > 0 else 1.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Target time of each source time.

        Parameters
        ----------
        t : array_like, shape (K,)

        Returns
        -------
        numpy.ndarray, shape (K,), float64
        """
        tt = np.asarray(t, dtype=np.float64)
        out = np.interp(tt, self.x, self.y)
        s = self.slope
        out = np.where(tt < self.x[0], self.y[0] + s * (tt - self.x[0]), out)
        return np.where(tt > self.x[-1], self.y[-1] + s * (tt - self.x[-1]), out)

    def strict(self) -> WarpCurve:
        """The curve with each run of equal ``y`` merged into one point at its mean ``x``.

        The result is strictly increasing in both coordinates: invertible, and smooth
        enough to drive audio (a held frame becomes a slow stretch, not a stop).
        """
        # Steps below a nanosecond are rounding, not motion (and would make the inverse
        # slope overflow).
        starts = np.flatnonzero(np.r_[True, np.diff(self.y) > _TIME_EPS])
        counts = np.diff(np.r_[starts, self.y.size])
        x = np.add.reduceat(self.x, starts) / counts
        return WarpCurve(x, self.y[starts])

    def inverse(self) -> WarpCurve:
        """The map from target seconds back to source seconds (of :meth:`strict`)."""
        s = self.strict()
        return WarpCurve(s.y, s.x)


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

    def curve(self) -> WarpCurve:
        """A smooth query-seconds -> match-seconds curve through the rows (for audio)."""
        return WarpCurve(self.query_time, self.match_time).strict()

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


def frame_map(curve: WarpCurve, query_times: np.ndarray, match_times: np.ndarray) -> FrameMap:
    """Sample a warp curve at every query frame and name the nearest match frame.

    Parameters
    ----------
    curve : WarpCurve
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
    mf = nearest_frames(curve(qt), mt)
    return FrameMap(np.arange(qt.size, dtype=np.int64), qt, mf, mt[mf])


def curve_from_path(
    path: np.ndarray, query_sample_times: np.ndarray, match_sample_times: np.ndarray
) -> WarpCurve:
    """The query -> match warp curve of a DTW path on sampled frames.

    Each sampled query frame is paired with the mean of its partners on the path (the
    query stays unwarped), in seconds of the match file.

    Parameters
    ----------
    path : array_like, shape (L, 2)
        ``[query_index, match_index]`` cells in sampled-frame indices
        (``Alignment.path``).
    query_sample_times : array_like, shape (n,)
        Source time of each sampled query frame (``FeatureSequence.timestamps``).
    match_sample_times : array_like, shape (m,)
        Source time of each sampled match frame.

    Returns
    -------
    WarpCurve
    """
    table = time_map_table(path, query_sample_times, match_sample_times, keep="query")
    return WarpCurve(table["query_time"], table["match_time"])


def reverse_frames(
    curve: WarpCurve, query_times: np.ndarray, match_times: np.ndarray
) -> np.ndarray:
    """For every match frame, the query frame that plays with it (the match unwarped).

    Parameters
    ----------
    curve : WarpCurve
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
