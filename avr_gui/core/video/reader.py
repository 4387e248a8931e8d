"""Frame-accurate random access for playback and export, and thumbnails.

:class:`FrameReader` reads every packet's timestamp once when it opens (demuxing only,
no decoding), so a frame index maps to an exact presentation timestamp. ``read(i)``
then decodes forward when frame ``i`` is reachable from the current position no slower
than by seeking (always for ``i + 1``), and otherwise seeks to the keyframe at or
before frame ``i`` and decodes up to it.

A damaged file (an MP4 cut short whose index still announces the whole clip) is
opened as what it really holds: when the packet scan finds the file incomplete, the
last group of pictures is decoded and the frames after the last decodable one are
left out of :attr:`FrameReader.times`, so playback and export end at the damage
instead of failing on it; :attr:`FrameReader.damaged_at` says where that is.
"""

from __future__ import annotations

import math
import operator
import os
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

import avr_gui.core.video._decoders as B
from avr_gui.core.errors import DecodeWarning, FrameIndexError, InputError, NoFramesError
from avr_gui.core.video._readers import AvReader, CvReader
from avr_gui.core.video.decode import WarningCallback
from avr_gui.core.video.probe import VideoInfo, probe

# Times closer than this (seconds) to a frame's timestamp count as that frame.
_EPS = 1e-6


class _Warner:
    """Passes each decode warning to ``on_warning``, else issues a :class:`DecodeWarning`."""

    def __init__(self, on_warning: WarningCallback | None) -> None:
        self.on_warning = on_warning

    def __call__(self, message: str) -> None:
        if self.on_warning is not None:
            # Not also as a Python warning: a CLI that prints both would say it twice.
            self.on_warning(message)
            return
        # stacklevel 4: the caller of FrameReader(...) or FrameReader.read(...).
        warnings.warn(message, DecodeWarning, stacklevel=4)


class FrameReader:
    """Random access to the frames of one video, in display orientation.

    Use as a context manager (or call :meth:`close`). Not thread-safe: give each
    thread its own reader.

    Parameters
    ----------
    path : path-like
    size : int, optional
        Shrink frames so the longest side is at most ``size`` (aspect kept, never
        enlarged), as in :func:`sample_frames`.
    short_side : int, optional
        Instead of ``size``: bound the shortest side.
    decoder : {"auto", "pyav", "opencv"}
        ``"auto"`` uses PyAV and falls back to OpenCV (whose frame seeking is less
        reliable on some formats and whose :attr:`times` assume a constant rate) when
        PyAV cannot open the file.
    on_warning : callable, optional
        ``on_warning(message)`` for each one-line decode warning (a damaged file, a
        frame replaced by the next decodable one). Without it each is issued as a
        :class:`DecodeWarning` instead.

    Attributes
    ----------
    path : pathlib.Path
    times : numpy.ndarray, shape (frame_count,), float64
        Presentation time of every decodable frame in seconds (same clock as
        :attr:`SampledFrame.time`), increasing. Read-only. A truncated file's frames
        end at the damage.
    damaged_at : float or None
        Seconds of video that decode when the file is cut short (decoding stops
        there, well before the announced :attr:`nominal_s`); None when intact.
    nominal_s : float
        Length the file's headers announce (0.0 when they announce none).
    damage_message : str
        The one-line warning issued about the damage (``""`` when intact).
    width, height : int
        Size of the images :meth:`read` returns.
    decoder : str
        ``"pyav"`` or ``"opencv"``.

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError,
    NotAVideoError, CorruptVideoError, NoFramesError
        As :func:`probe`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        size: int | None = None,
        short_side: int | None = None,
        decoder: B.Decoder = "auto",
        on_warning: WarningCallback | None = None,
    ) -> None:
        B.check_size(size, short_side)
        B.check_decoder(decoder)
        self.path = B.check_path(path)
        self._size, self._short_side = size, short_side
        self._info: VideoInfo | None = None
        self._impl: AvReader | CvReader
        self.damaged_at: float | None = None
        self.damage_message = ""
        self.nominal_s = 0.0
        warn = _Warner(on_warning)
        if decoder == "opencv":
            self._impl = CvReader(self.path, size, short_side)
        else:
            try:
                self._impl = AvReader(self.path, size, short_side, warn)
            except B._OpenFailed as failed:
                if decoder == "pyav" or failed.final:
                    raise failed.error from failed.__cause__
                try:
                    self._impl = CvReader(self.path, size, short_side)
                except Exception:
                    raise failed.error from failed.__cause__  # PyAV's diagnosis is clearer
        self.decoder = self._impl.decoder
        if isinstance(self._impl, AvReader):
            self.damaged_at, self.nominal_s = self._impl.damaged_at, self._impl.nominal_s
            self.damage_message = self._impl.damage_message
        self.times = self._impl.times
        self.times.setflags(write=False)
        self.width, self.height = self._impl.out
        self._cache: tuple[int, np.ndarray] | None = None

    # ----------------------------------------------------------------- context manager

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file. Idempotent."""
        self._impl.close()
        self._cache = None

    def __len__(self) -> int:
        return len(self.times)

    # ----------------------------------------------------------------- facts

    @property
    def frame_count(self) -> int:
        """Number of frames (counted from the packets, exact)."""
        return len(self.times)

    @property
    def seeks(self) -> int:
        """How many times the reader has repositioned the decoder (sequential reads: 0)."""
        return self._impl.seeks

    @property
    def info(self) -> VideoInfo:
        """The file's :class:`VideoInfo` (probed on first use)."""
        if self._info is None:
            self._info = probe(self.path, decoder=self.decoder)  # type: ignore[arg-type]
        return self._info

    def index_at(self, time_s: float) -> int:
        """Index of the frame showing at ``time_s``: the last frame starting at or before it.

        Times before the first frame give 0, times after the last frame give the last
        index.

        Raises
        ------
        InputError
            If ``time_s`` is not a finite number.
        """
        t = float(time_s)
        if not math.isfinite(t):
            raise InputError(f"a time in seconds must be a finite number, got {time_s!r}")
        i = int(np.searchsorted(self.times, t + _EPS, side="right")) - 1
        return min(max(i, 0), len(self.times) - 1)

    # ----------------------------------------------------------------- reading

    def read(self, index: int) -> np.ndarray:
        """Decode frame ``index`` exactly.

        Parameters
        ----------
        index : int
            0-based presentation-order index, ``0 <= index < frame_count``.

        Returns
        -------
        numpy.ndarray, shape (height, width, 3), uint8
            BGR pixels in display orientation; the caller may modify it.

        Raises
        ------
        FrameIndexError
            If ``index`` is out of range.
        CorruptVideoError
            If no frame at or near ``index`` can be decoded (a damaged file). When
            frame ``index`` itself is damaged the nearest following decodable frame is
            returned with a :class:`DecodeWarning`.
        """
        try:
            i = operator.index(index)
        except TypeError:
            raise FrameIndexError(f"a frame index must be a whole number, got {index!r}") from None
        n = len(self.times)
        if not 0 <= i < n:
            raise FrameIndexError(f"{self.path.name}: frame {i} is outside 0..{n - 1}")
        if self._cache is not None and self._cache[0] == i:
            return self._cache[1].copy()
        image = self._impl.read(i)
        self._cache = (i, image)
        return image.copy()

    def read_at(self, time_s: float) -> np.ndarray:
        """Decode the frame showing at ``time_s`` seconds (see :meth:`index_at`).

        Returns
        -------
        numpy.ndarray, shape (height, width, 3), uint8
        """
        return self.read(self.index_at(time_s))


def thumbnail(
    path: str | os.PathLike[str],
    time_s: float = 0.0,
    max_side: int = 160,
    *,
    decoder: B.Decoder = "auto",
) -> np.ndarray:
    """A small picture of the frame showing at ``time_s`` seconds.

    Seeks straight to the time (no packet scan), so it is cheap on long files. Times
    past the end give the last frame.

    Parameters
    ----------
    path : path-like
    time_s : float
        Time in seconds (clamped to the video; negative means 0).
    max_side : int
        Longest side of the result in pixels (never enlarged).
    decoder : {"auto", "pyav", "opencv"}

    Returns
    -------
    numpy.ndarray, shape (H, W, 3), uint8
        BGR, display orientation, ``max(H, W) <= max_side``.

    Raises
    ------
    InputError
        Bad ``time_s`` or ``max_side``.
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError,
    NotAVideoError, CorruptVideoError, NoFramesError
        As :func:`probe`.
    """
    t = float(time_s)
    if not math.isfinite(t):
        raise InputError(f"a time in seconds must be a finite number, got {time_s!r}")
    B.check_size(max_side, None)
    B.check_decoder(decoder)
    p = B.check_path(path)
    if decoder == "opencv":
        with FrameReader(p, size=max_side, decoder="opencv") as reader:
            return reader.read_at(t)
    try:
        container, stream = B.open_av(p)
    except B._OpenFailed as failed:
        if decoder == "pyav" or failed.final:
            raise failed.error from failed.__cause__
        try:
            with FrameReader(p, size=max_side, decoder="opencv") as reader:
                return reader.read_at(t)
        except Exception:
            raise failed.error from failed.__cause__  # PyAV's diagnosis is the clearer one
    with container:
        return _thumbnail_av(p, container, stream, max(t, 0.0), max_side)


def _thumbnail_av(p: Path, container: Any, stream: Any, t: float, max_side: int) -> np.ndarray:
    tb = float(stream.time_base)
    origin = B.av_origin(stream)
    if t > 0:
        container.seek(origin + int(t / tb), stream=stream, backward=True)
        stream.codec_context.flush_buffers()
    for attempt in range(2):
        chosen = None
        for frame in B.decode_av(container, stream, B.DecodeStats()):
            ft = (frame.pts - origin) * tb if frame.pts is not None else 0.0
            if chosen is None and ft > t + _EPS and attempt == 0 and t > 0:
                break  # the seek landed after the time: start over from the beginning
            if chosen is not None and ft > t + _EPS:
                break
            chosen = frame
        if chosen is not None:
            geometry = B.av_geometry(stream, chosen)
            return geometry.convert_av(chosen, geometry.output_size(max_side, None))
        container.seek(origin, stream=stream, backward=True)
        stream.codec_context.flush_buffers()
    raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
