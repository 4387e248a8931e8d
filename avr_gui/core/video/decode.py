"""Decode a video and sample frames at a target rate by timestamp.

Sampling follows the real presentation timestamps of the decoded frames, not frame
counts, so variable frame rate video is sampled evenly in time. Rotation metadata is
honoured (portrait phone video comes out portrait) and frames are shrunk right after
decoding, inside the colour conversion, so a huge source resolution never accumulates.

Damaged files
-------------
A truncated or partly corrupt file is decoded as far as it can be; the frames that
were read are yielded and, at the end of the iteration, the one-line message goes to
the ``on_warning`` callback when one is given (the GUI shows it, the indexer stores it
with the file) and is otherwise issued as a :class:`DecodeWarning` with
:func:`warnings.warn` -- one or the other, as :class:`~avr_gui.core.video.FrameReader`
does, so nothing is said twice. A file with no decodable frame at all raises
:class:`NoFramesError`.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import avr_gui.core.video._decoders as B
from avr_gui.core.errors import DecodeWarning, InputError, NoFramesError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.video._cv2 import import_cv2
from avr_gui.core.video.prefetch import prefetch as _prefetch

cv2 = import_cv2()

#: ``on_warning(message)``: receives each one-line decode warning.
WarningCallback = Callable[[str], None]

# Frames between progress reports.
_PROGRESS_EVERY = 25
# Timestamps within this many seconds count as equal (container rounding).
_EPS = 1e-6


@dataclass(frozen=True)
class SampledFrame:
    """One decoded frame chosen by the sampler.

    Attributes
    ----------
    time : float
        Presentation time in seconds in the source file, from the frame's real
        timestamp, counted from the start of the video stream (the first frame of most
        files is at 0.0).
    index : int
        Index of the frame in presentation order in the source file (0-based); the
        same numbering as :meth:`FrameReader.read`. Frames a damaged file loses are
        not counted, so there ``time`` is the reliable locator.
    image : numpy.ndarray, shape (H, W, 3), uint8
        BGR pixels in display orientation, C-contiguous.
    """

    time: float
    index: int
    image: np.ndarray


def sample_frames(
    path: str | os.PathLike[str],
    fps: float | None = 10.0,
    *,
    size: int | None = None,
    short_side: int | None = None,
    prefetch: int = 0,
    decoder: B.Decoder = "auto",
    on_warning: WarningCallback | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Iterator[SampledFrame]:
    """Yield frames of ``path`` sampled at about ``fps`` frames per second.

    The first frame is always kept; after that a frame is kept when its timestamp
    reaches the next instant of a regular grid (``first_time + k / fps``), so the kept
    frames are the source frames at or just after the grid instants. On variable frame
    rate video a long gap between source frames skips the grid instants inside it.

    Parameters
    ----------
    path : path-like
        Any file FFmpeg (through PyAV) or OpenCV can read; unicode and spaces are fine.
    fps : float or None
        Target sampling rate (> 0); rates above the source's keep every frame.
        ``None`` keeps every frame.
    size : int, optional
        Shrink frames so that their *longest* side is at most ``size`` pixels (aspect
        kept, never enlarged). The longest side is the bound that caps memory for
        any orientation, so it is the default choice.
    short_side : int, optional
        Instead of ``size``: shrink so the *shortest* side is at most this (what
        CNN encoders expect). Give at most one of the two.
    prefetch : int
        If > 0, decode on a background thread up to this many frames ahead of the
        consumer (see :func:`prefetch`). The thread stops when the iteration ends,
        is abandoned or is cancelled.
    decoder : {"auto", "pyav", "opencv"}
        ``"auto"`` uses PyAV and falls back to OpenCV when PyAV cannot open the file.
    on_warning : callable, optional
        ``on_warning(message)`` for each decode warning (also issued as
        :class:`DecodeWarning`).
    progress : callable
        ``progress(done_frames, total_frames, message)`` every 25 decoded frames
        (``total_frames`` is the header's count or an estimate; 0 when unknown).
        Called on the decoding thread.
    cancel : CancelToken, optional
        Checked before every decoded frame; raises :class:`Cancelled`.

    Returns
    -------
    iterator of SampledFrame
        ``image`` has shape (H, W, 3), uint8 BGR, in display orientation.

    Raises
    ------
    InputError
        Bad ``fps``, ``size``, ``short_side``, ``prefetch`` or ``decoder`` (at call time).
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
        The path does not name a readable, non-empty file (at call time).
    NotAVideoError, CorruptVideoError
        The file is not a readable video (on first iteration).
    NoFramesError
        The file opened but no frame could be decoded.
    """
    if fps is not None and not (
        isinstance(fps, numbers.Real)
        and not isinstance(fps, bool)
        and math.isfinite(fps)
        and fps > 0
    ):
        raise InputError(f"the sampling rate must be a positive number of frames/s, got {fps!r}")
    B.check_size(size, short_side)
    B.check_decoder(decoder)
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
        raise InputError(f"prefetch must be a whole number >= 0, got {prefetch!r}")
    p = B.check_path(path)
    step = 1.0 / fps if fps is not None else None
    frames = _sample(p, step, size, short_side, decoder, on_warning, progress, cancel)
    if prefetch:
        return _cancellable(_prefetch(frames, prefetch), cancel)
    return frames


def _cancellable(
    frames: Iterator[SampledFrame], cancel: CancelToken | None
) -> Iterator[SampledFrame]:
    # The consumer checks too: a producer blocked on a full queue must not delay it.
    try:
        for frame in frames:
            check(cancel)
            yield frame
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _sample(
    p: Path,
    step: float | None,
    size: int | None,
    short_side: int | None,
    decoder: B.Decoder,
    on_warning: WarningCallback | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> Iterator[SampledFrame]:
    if decoder == "opencv":
        yield from _sample_cv(p, step, size, short_side, on_warning, progress, cancel)
        return
    try:
        container, stream = B.open_av(p)
    except B._OpenFailed as failed:
        if decoder == "pyav" or failed.final:
            raise failed.error from failed.__cause__
        try:
            B.open_cv(p).release()
        except Exception:
            raise failed.error from failed.__cause__  # PyAV's diagnosis is the clearer one
        yield from _sample_cv(p, step, size, short_side, on_warning, progress, cancel)
        return
    with container:
        yield from _sample_av(
            p, container, stream, step, size, short_side, on_warning, progress, cancel
        )


class _Grid:
    """Keeps a frame when its time reaches the next instant of a regular grid."""

    def __init__(self, step: float | None) -> None:
        self.step = step
        self.next_t: float | None = None

    def keep(self, t: float) -> bool:
        if self.step is None:
            return True
        if self.next_t is None:
            self.next_t = t + self.step
            return True
        if t + _EPS < self.next_t:
            return False
        # Jump past t in one go: a long VFR gap skips the grid instants inside it.
        self.next_t += (math.floor((t + _EPS - self.next_t) / self.step) + 1) * self.step
        return True


def _emit_warning(message: str, on_warning: WarningCallback | None) -> None:
    if not message:
        return
    if on_warning is not None:
        on_warning(message)
    else:
        warnings.warn(message, DecodeWarning, stacklevel=3)


def _sample_av(
    p: Path,
    container: Any,
    stream: Any,
    step: float | None,
    size: int | None,
    short_side: int | None,
    on_warning: WarningCallback | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> Iterator[SampledFrame]:
    expected_frames, expected_s = B.av_expected(container, stream)
    nominal = B.av_nominal_fps(stream)
    total = expected_frames or (round(expected_s * nominal) if nominal else 0)
    tb = float(stream.time_base)
    origin = B.av_origin(stream)
    dt_nominal = 1.0 / nominal if nominal else 1.0 / 30.0
    grid = _Grid(step)
    stats = B.DecodeStats()
    geometry: B.Geometry | None = None
    out = (0, 0)
    index = -1
    last_t = -math.inf
    message = f"decoding {p.name}"
    for frame in B.decode_av(container, stream, stats):
        check(cancel)
        index += 1
        if index % _PROGRESS_EVERY == 0:
            progress(index, total, message)
        t = (frame.pts - origin) * tb if frame.pts is not None else math.nan
        if not math.isfinite(t) or t <= last_t:
            # Missing or non-increasing timestamps: continue at the nominal rate.
            t = index * dt_nominal if last_t == -math.inf else last_t + dt_nominal
        last_t = t
        if geometry is None:
            geometry = B.av_geometry(stream, frame)
            out = geometry.output_size(size, short_side)
        if grid.keep(t):
            yield SampledFrame(t, index, geometry.convert_av(frame, out))
    decoded = index + 1
    progress(decoded, max(total, decoded), message)
    if decoded == 0:
        raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
    frame_s = 1.0 / nominal if nominal else 0.0
    _emit_warning(
        B.damage_report(
            p, container, stats, decoded, last_t + frame_s, expected_frames, expected_s
        ),
        on_warning,
    )


def _sample_cv(
    p: Path,
    step: float | None,
    size: int | None,
    short_side: int | None,
    on_warning: WarningCallback | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> Iterator[SampledFrame]:
    cap = B.open_cv(p)
    try:
        expected_frames = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        nominal = cap.get(cv2.CAP_PROP_FPS) or 0.0
        dt_nominal = 1.0 / nominal if 0 < nominal < 10_000 else 1.0 / 30.0
        grid = _Grid(step)
        index = -1
        last_t = -math.inf
        message = f"decoding {p.name}"
        while True:
            check(cancel)
            ok, image = cap.read()
            if not ok:
                break
            index += 1
            if index % _PROGRESS_EVERY == 0:
                progress(index, expected_frames, message)
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not math.isfinite(t) or t <= last_t:
                # Some containers report no timestamps: continue at the nominal rate.
                t = index * dt_nominal if last_t == -math.inf else last_t + dt_nominal
            last_t = t
            if grid.keep(t):
                out = B.output_size(
                    image.shape[1], image.shape[0], size=size, short_side=short_side
                )
                yield SampledFrame(t, index, np.ascontiguousarray(B.resize_bgr(image, out)))
        decoded = index + 1
        progress(decoded, max(expected_frames, decoded), message)
        if decoded == 0:
            raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
        # OpenCV estimates the count of some containers from duration x rate: only a
        # clear shortfall means damage.
        if decoded >= 0.9 * expected_frames:
            expected_frames = 0
        _emit_warning(
            B.damage_report(p, None, B.DecodeStats(), decoded, last_t, expected_frames, 0.0),
            on_warning,
        )
    finally:
        cap.release()
