"""Write frames (and an audio track) to a video file with a real encoder through PyAV.

H.264 (libx264) is the encoder editors expect. When the FFmpeg inside PyAV lacks it,
another H.264 encoder is tried, then MPEG-4 Part 2, and the caller is told which one
was used (``on_warning``), so an export never silently degrades.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np

from avr_gui.core.export.errors import EncoderUnavailableError, OutputPathError
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

#: Video encoders in order of preference (the first one that opens is used).
VIDEO_ENCODERS = ("libx264", "libopenh264", "mpeg4")
#: Containers an export may be written to (by the output file's suffix).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Fine clock for variable-rate output (the MPEG-TS / common editor clock).
_VFR_CLOCK = 90000


@dataclass(frozen=True)
class EncodeOptions:
    """How the video is compressed.

    Attributes
    ----------
    crf : int
        Constant rate factor for x264 (lower = better; 18 is visually near-lossless).
    preset : str
        x264 speed/size trade-off (``"ultrafast"`` .. ``"veryslow"``).
    codec : str or None
        Force one FFmpeg encoder; ``None`` picks the first usable of
        :data:`VIDEO_ENCODERS`.
    """

    crf: int = 18
    preset: str = "veryfast"
    codec: str | None = None


@dataclass(frozen=True)
class AudioTrack:
    """Decoded audio ready to encode.

    Attributes
    ----------
    samples : numpy.ndarray, shape (C, S), float32
        Planar samples in [-1, 1]; ``C`` is 1 or 2.
    rate : int
        Sample rate in Hz.
    """

    samples: np.ndarray
    rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.samples.shape[1] / self.rate


def container_format(path: str | os.PathLike[str]) -> str:
    """FFmpeg muxer name for an output path, from its suffix.

    Raises
    ------
    OutputPathError
        An unsupported suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputPathError(
            f"{path}: an export must be a {', '.join(CONTAINERS)} file (got {suffix or 'none'!r})"
        )
    return CONTAINERS[suffix]


def _options(codec: str, opts: EncodeOptions) -> dict[str, str]:
    if codec == "libx264":
        return {"crf": str(opts.crf), "preset": opts.preset}
    if codec == "mpeg4":
        return {"qscale": "2"}
    return {}


# FFmpeg's AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic SMPTE 170M
# (BT.601 NTSC) and AVColorRange MPEG (limited).
_SMPTE170M = 6
_RANGE_MPEG = 1


def _tag_bt601(ctx: Any) -> None:
    """Say in the stream which colours the pixels are in, so no player guesses BT.709."""
    for attr, value in (
        ("colorspace", _SMPTE170M),
        ("color_primaries", _SMPTE170M),
        ("color_trc", _SMPTE170M),
        ("color_range", _RANGE_MPEG),
    ):
        if hasattr(ctx, attr):
            setattr(ctx, attr, value)


def _frame_clock(times: np.ndarray, fps: float) -> tuple[Fraction, Fraction, np.ndarray]:
    """``(rate, time_base, pts)`` for frames at ``times`` (seconds, from 0).

    Constant-rate input gets the exact ``1/rate`` clock, so players and editors see a
    true constant frame rate; anything else keeps its real times on a 1/90000 s clock.
    """
    rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
    ticks = times * float(rate)
    pts = np.round(ticks).astype(np.int64)
    if np.abs(ticks - pts).max(initial=0.0) < 0.1 and (np.diff(pts) > 0).all():
        return rate, 1 / rate, pts
    pts = np.round(times * _VFR_CLOCK).astype(np.int64)
    if (np.diff(pts) <= 0).any():
        raise EncoderUnavailableError("frame times are too close together to be encoded")
    return rate, Fraction(1, _VFR_CLOCK), pts


class VideoSink:
    """An open output file: add frames in order, then close (or leave via ``with``).

    Parameters
    ----------
    path : path-like
        The file to write (normally a temporary path: the caller moves it into place).
    size : tuple of int
        ``(width, height)`` of the frames given to :meth:`write`. Odd sides are padded
        by one replicated row/column, since 4:2:0 video needs even sides.
    times : array_like, shape (N,)
        Presentation time of each frame in seconds (shifted so the first is 0).
    fps : float
        Nominal frame rate.
    audio : AudioTrack, optional
        Encoded as AAC in the same file.
    options : EncodeOptions, optional
    fmt : str, optional
        Muxer name (default: from the suffix of ``path``).
    on_warning : callable, optional
        Told when the preferred encoder is missing and another one is used.

    Attributes
    ----------
    codec : str
        The video encoder in use.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        size: tuple[int, int],
        times: np.ndarray,
        fps: float,
        *,
        audio: AudioTrack | None = None,
        options: EncodeOptions | None = None,
        fmt: str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        opts = options or EncodeOptions()
        t = np.asarray(times, dtype=np.float64)
        self.size = size
        self._even = (size[0] + size[0] % 2, size[1] + size[1] % 2)
        self._rate, self._tb, self._pts = _frame_clock(t - t[0], fps)
        self._next = 0
        try:
            self._out = av.open(os.fspath(path), "w", format=fmt)
        except (OSError, av.error.FFmpegError) as exc:
            raise OutputPathError(f"{path}: cannot create the output file ({exc})") from exc
        try:
            self._video = self._open_video(opts, on_warning)
            self._audio = self._open_audio(audio) if audio is not None else None
            if audio is not None:
                self._write_audio(audio)
        except BaseException:
            self._out.close()
            raise
        self.codec = self._video.codec_context.name

    def _open_video(self, opts: EncodeOptions, on_warning: Callable[[str], None] | None) -> Any:
        wanted = (opts.codec,) if opts.codec else VIDEO_ENCODERS
        tried = []
        for name in wanted:
            if name not in av.codecs_available:
                tried.append(f"{name} (not in this FFmpeg)")
                continue
            try:
                stream = self._out.add_stream(name, rate=self._rate, options=_options(name, opts))
                stream.width, stream.height = self._even
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = self._tb
                stream.time_base = self._tb
                _tag_bt601(stream.codec_context)
                stream.codec_context.open()
            except (av.error.FFmpegError, ValueError) as exc:
                tried.append(f"{name} ({exc})")
                continue
            if tried and on_warning is not None:
                on_warning(f"H.264 encoder unavailable ({'; '.join(tried)}); encoding with {name}")
            return stream
        raise EncoderUnavailableError(
            f"no usable video encoder in PyAV's FFmpeg: tried {'; '.join(tried)}"
        )

    def _open_audio(self, audio: AudioTrack) -> Any:
        if "aac" not in av.codecs_available:
            raise EncoderUnavailableError("PyAV's FFmpeg has no AAC encoder for the audio")
        stream = self._out.add_stream("aac", rate=audio.rate)
        stream.layout = "mono" if audio.samples.shape[0] == 1 else "stereo"
        stream.format = "fltp"
        stream.bit_rate = 192_000
        return stream

    def _write_audio(self, audio: AudioTrack) -> None:
        # Audio is small once compressed: writing it all first lets the muxer interleave
        # it with video as the video arrives.
        stream = self._audio
        layout = "mono" if audio.samples.shape[0] == 1 else "stereo"
        step = stream.codec_context.frame_size or 1024
        data = np.ascontiguousarray(audio.samples, dtype=np.float32)
        for start in range(0, data.shape[1], step):
            chunk = np.ascontiguousarray(data[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = audio.rate
            frame.pts = start
            frame.time_base = Fraction(1, audio.rate)
            self._out.mux(stream.encode(frame))
        self._out.mux(stream.encode(None))

    def write(self, image: np.ndarray) -> None:
        """Encode the next frame.

        Parameters
        ----------
        image : numpy.ndarray, shape (height, width, 3), uint8
            BGR pixels of size :attr:`size`.
        """
        if self._next >= len(self._pts):
            raise EncoderUnavailableError("more frames written than announced")
        if (image.shape[1], image.shape[0]) != self.size:
            raise EncoderUnavailableError(
                f"frame of {image.shape[1]}x{image.shape[0]} given to a {self.size} writer"
            )
        if self._even != self.size:
            pad_w, pad_h = self._even[0] - self.size[0], self._even[1] - self.size[1]
            image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        # OpenCV's BT.601 limited-range conversion is ~5x faster than swscale's and is the
        # exact inverse of the one the frame readers use.
        yuv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = int(self._pts[self._next])
        frame.time_base = self._tb
        self._next += 1
        self._out.mux(self._video.encode(frame))

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        if self._out is None:
            return
        try:
            self._out.mux(self._video.encode(None))
        finally:
            out, self._out = self._out, None
            out.close()

    def abort(self) -> None:
        """Close without flushing (the file is to be thrown away).

        Errors closing are dropped: on a full disk the close fails too, and that must
        not hide the error that made the export give up.
        """
        if self._out is not None:
            out, self._out = self._out, None
            with contextlib.suppress(OSError, av.error.FFmpegError):
                out.close()

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
