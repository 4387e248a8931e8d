"""How much of a video really decodes: finding where a truncated file stops.

An MP4 whose index (moov atom) sits at the front still opens after the file was cut:
its headers announce the full length, and nothing fails until decoding reaches the
cut. :func:`readable_duration` finds the cut without decoding the whole file: one seek
near the announced end proves an intact file; a damaged one costs a binary search of
seeks, each decoding at most one group of pictures.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import avr_gui.core.video._decoders as B

# A tail missing less than this (seconds, and less than a few frames) is not damage:
# containers round their durations, and an audio track may outlast the video.
_TOLERANCE_S = 1.0
_TOLERANCE_FRAMES = 3
# The binary search stops when the cut is bracketed this tightly (seconds); the final
# decode from the bracket's start finds the exact last frame.
_BRACKET_S = 2.0


@dataclass(frozen=True)
class Readable:
    """What part of a video decodes.

    Attributes
    ----------
    readable_s : float
        Where the last decodable frame stops showing, in seconds from the stream's start.
    nominal_s : float
        Length the headers announce (0.0 when they announce none).
    damaged : bool
        Whether ``readable_s`` falls short of ``nominal_s`` by more than rounding
        (over 1 s and over 3 frames).
    """

    readable_s: float
    nominal_s: float
    damaged: bool

    @property
    def damaged_at(self) -> float | None:
        """``readable_s`` for a damaged file, None for an intact one (the catalog's field)."""
        return self.readable_s if self.damaged else None

    def describe(self, name: str) -> str:
        """One line for people: ``"<name>: damaged: plays to 4.1 s of 10.0 s"``."""
        return f"{name}: damaged: plays to {self.readable_s:.1f} s of {self.nominal_s:.1f} s"


def is_damaged(readable_s: float, nominal_s: float, fps: float) -> bool:
    """Whether a video that decodes to ``readable_s`` of ``nominal_s`` is cut short.

    Parameters
    ----------
    readable_s, nominal_s : float
        Seconds that decode, seconds the headers announce (0 when unknown).
    fps : float
        Nominal frame rate (0 when unknown).
    """
    if nominal_s <= 0:
        return False
    frames_s = _TOLERANCE_FRAMES / fps if fps > 0 else 0.0
    return nominal_s - readable_s > max(_TOLERANCE_S, frames_s)


def readable_duration(path: str | os.PathLike[str]) -> Readable:
    """Find how much of a video decodes (PyAV; cheap on intact files).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    Readable

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError,
    NotAVideoError, CorruptVideoError
        As :func:`probe` (a file PyAV cannot open at all).
    NoFramesError
        Not a single frame decodes.
    """
    p = B.check_path(path)
    try:
        container, stream = B.open_av(p)
    except B._OpenFailed as failed:
        raise failed.error from failed.__cause__
    with container:
        return _readable_av(container, stream, p)


def _readable_av(container: Any, stream: Any, p: os.PathLike[str]) -> Readable:
    from avr_gui.core.errors import NoFramesError

    _, nominal = B.av_expected(container, stream)
    fps = B.av_nominal_fps(stream)
    frame_s = 1.0 / fps if fps > 0 else 0.0
    if nominal <= 0:
        end = _decoded_until(container, stream, 0.0, None)
        if end is None:
            raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
        return Readable(end + frame_s, 0.0, False)
    probe_t = max(0.0, nominal - 2 * frame_s - 1e-3)
    reached = _decoded_until(container, stream, probe_t, probe_t)
    if reached is not None and reached >= probe_t:
        return Readable(nominal, nominal, False)
    lo, hi = 0.0, probe_t
    if reached is not None:
        lo = reached
    while hi - lo > _BRACKET_S:
        mid = (lo + hi) / 2
        got = _decoded_until(container, stream, mid, mid)
        if got is not None and got >= mid:
            lo = got
        else:
            hi = mid
            if got is not None:
                lo = max(lo, got)
    end = _decoded_until(container, stream, lo, None)
    if end is None:
        end = _decoded_until(container, stream, 0.0, None)
    if end is None:
        raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
    readable = min(end + frame_s, nominal)
    return Readable(readable, nominal, is_damaged(readable, nominal, fps))


def _decoded_until(
    container: Any, stream: Any, start_s: float, stop_s: float | None
) -> float | None:
    """Seek to ``start_s``, decode; time of the last frame decoded, None if none decodes.

    Decoding stops at the first frame at or after ``stop_s`` (None: the end of the
    file, or wherever the file stops being readable).
    """
    tb = float(stream.time_base)
    origin = B.av_origin(stream)
    try:
        container.seek(origin + int(start_s / tb), stream=stream, backward=True)
        stream.codec_context.flush_buffers()
    except B.av.error.FFmpegError:
        return None
    last: float | None = None
    for frame in B.decode_av(container, stream, B.DecodeStats()):
        if frame.pts is None:
            continue
        t = (frame.pts - origin) * tb
        if not math.isfinite(t):
            continue
        last = t if last is None else max(last, t)
        if stop_s is not None and t >= stop_s:
            break
    return last
