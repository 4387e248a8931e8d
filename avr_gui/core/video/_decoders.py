"""Plumbing shared by the video modules: path checks, opening, display geometry, timestamps.

Two decoders sit behind the public functions: PyAV (preferred: real timestamps, display
matrix, scaling fused into the colour conversion) and OpenCV (fallback when PyAV is
missing or cannot open a file). Everything here is private to ``avr_gui.core.video``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np

from avr_gui.core.errors import (
    CorruptVideoError,
    InputError,
    NotAVideoError,
    UnreadableFileError,
    VideoError,
)
from avr_gui.core.files import check_input_file
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

try:
    import av
    import av.error
except ImportError:  # pragma: no cover - av is a declared dependency; OpenCV still works
    av = None

Decoder = Literal["auto", "pyav", "opencv"]
DECODERS = ("auto", "pyav", "opencv")

# Demuxers that read one still picture: a photo in a video folder is not a clip.
_STILL_FORMATS = {"image2", "png", "apng_pipe", "webp"}
# MPEG transport streams are a sequence of fixed-size packets (188, or 192 for M2TS).
_TS_PACKET_SIZES = (188, 192)


def check_decoder(decoder: str) -> None:
    """Raise :class:`InputError` unless ``decoder`` is one of :data:`DECODERS`."""
    if decoder not in DECODERS:
        raise InputError(f"unknown video decoder {decoder!r}; use one of {', '.join(DECODERS)}")


def check_size(size: int | None, short_side: int | None) -> None:
    """Validate the resize options shared by the decoders."""
    if size is not None and short_side is not None:
        raise InputError("give either size (longest side) or short_side, not both")
    for name, value in (("size", size), ("short_side", short_side)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1
        ):
            raise InputError(f"{name} must be a positive whole number of pixels, got {value!r}")


def check_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` after checking it names a non-empty file.

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
    """
    return check_input_file(path, "video")


# --------------------------------------------------------------------------- geometry


def output_size(
    width: int, height: int, *, size: int | None = None, short_side: int | None = None
) -> tuple[int, int]:
    """Size of a ``width`` x ``height`` frame after the resize options.

    Parameters
    ----------
    width, height : int
        Size of the frame (display orientation).
    size : int, optional
        Upper bound of the longest side.
    short_side : int, optional
        Upper bound of the shortest side (instead of ``size``).

    Returns
    -------
    tuple of int
        ``(width, height)``: aspect ratio kept (each side rounded, at least 1), never
        larger than the input; unchanged when neither bound is given or already met.
    """
    if size is not None:
        limit, side = size, max(width, height)
    elif short_side is not None:
        limit, side = short_side, min(width, height)
    else:
        return width, height
    if side <= limit:
        return width, height
    scale = limit / side
    return max(1, round(width * scale)), max(1, round(height * scale))


def rotation_cw(ccw_degrees: float | None) -> int:
    """Clockwise display rotation in {0, 90, 180, 270} from FFmpeg's counter-clockwise angle."""
    if ccw_degrees is None or not math.isfinite(ccw_degrees):
        return 0
    return int(-round(ccw_degrees / 90.0) * 90) % 360


_CV_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class Geometry:
    """How stored pixels map to what a player shows.

    Attributes
    ----------
    coded_width, coded_height : int
        Size of the decoded picture as stored.
    rotation : int
        Clockwise rotation a player applies, in {0, 90, 180, 270}.
    sar : fractions.Fraction
        Sample (pixel) aspect ratio; 1 for square pixels.
    """

    coded_width: int
    coded_height: int
    rotation: int = 0
    sar: Fraction = field(default=Fraction(1))

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` a player shows: pixel aspect applied, then rotation."""
        w = self.coded_width
        if self.sar > 0 and self.sar != 1:
            w = max(1, round(self.coded_width * self.sar))
        h = self.coded_height
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def output_size(self, size: int | None, short_side: int | None) -> tuple[int, int]:
        """Display-oriented ``(width, height)`` after the resize options."""
        return output_size(*self.display_size, size=size, short_side=short_side)

    def convert_av(self, frame: Any, out: tuple[int, int]) -> np.ndarray:
        """BGR image, shape ``(out[1], out[0], 3)``, of a decoded PyAV frame.

        The frame is shrunk before (or while) it is turned into BGR, so a full-size BGR
        copy of a huge frame is never made.
        """
        w, h = (out[1], out[0]) if self.rotation in (90, 270) else out
        return self.rotate(frame_to_bgr(frame, w, h))

    def rotate(self, image: np.ndarray) -> np.ndarray:
        """Turn a stored-orientation image into display orientation (C-contiguous)."""
        if self.rotation in _CV_ROTATE:
            return cv2.rotate(image, _CV_ROTATE[self.rotation])
        return np.ascontiguousarray(image)


def shrink(image: np.ndarray, out: tuple[int, int], dst: np.ndarray | None = None) -> np.ndarray:
    """Resize ``image`` (H, W) or (H, W, C) down to ``out = (width, height)``.

    Halves with OpenCV's area filter while the image is at least twice the target
    (its exact-factor-2 path is both alias-free and fast; arbitrary area factors are
    ~30x slower), then finishes with a bilinear step of less than 2x, where bilinear
    does not alias yet (or an area step when an odd side stopped the halving early).
    ``dst``, if given, receives the result.
    """
    w, h = out
    while (
        image.shape[1] >= 2 * w
        and image.shape[0] >= 2 * h
        and image.shape[1] % 2 == 0
        and image.shape[0] % 2 == 0
    ):
        image = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
    if (image.shape[1], image.shape[0]) == (w, h):
        if dst is None:
            return image
        dst[...] = image
        return dst
    # Bilinear aliases beyond 2x; an odd side can stop the halving early.
    big = image.shape[1] >= 2 * w or image.shape[0] >= 2 * h
    return cv2.resize(
        image, (w, h), dst=dst, interpolation=cv2.INTER_AREA if big else cv2.INTER_LINEAR
    )


def resize_bgr(image: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    """Shrink a BGR image to ``out = (width, height)`` (see :func:`shrink`)."""
    if (image.shape[1], image.shape[0]) == out:
        return image
    return shrink(image, out)


def _plane(frame: Any, i: int) -> np.ndarray:
    """Zero-copy (rows, cols) view of plane ``i`` of a planar 8-bit frame."""
    plane = frame.planes[i]
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


# FFmpeg's AVCOL_RANGE_JPEG: full-range luma, which OpenCV's I420 conversion does not do.
_FULL_RANGE = 2


def frame_to_bgr(frame: Any, w: int, h: int) -> np.ndarray:
    """BGR image, shape (h, w, 3), of a decoded PyAV frame, shrunk to ``w`` x ``h``.

    Ordinary video (8-bit limited-range 4:2:0) takes a fast path: the Y, U and V planes
    are shrunk straight from the decoder's buffers and converted with OpenCV's I420
    conversion (BT.601, as FFmpeg's default), about 4x faster than swscale's BGR
    conversion. Other pixel formats (10-bit, 4:2:2, full range, odd sizes) go through
    swscale, which does the conversion and the scaling in one pass.
    """
    fw, fh = frame.width, frame.height
    if frame.format.name != "yuv420p" or frame.color_range == _FULL_RANGE or fw % 2 or fh % 2:
        if (w, h) == (fw, fh):
            return frame.to_ndarray(format="bgr24")
        return frame.to_ndarray(width=w, height=h, format="bgr24", interpolation="AREA")
    if (w, h) == (fw, fh):
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
    # I420 needs even sides: convert at the even size just above, then trim-scale.
    ew, eh = w + w % 2, h + h % 2
    buf = np.empty((eh * 3 // 2, ew), np.uint8)
    chroma = buf[eh:].reshape(-1)
    n = (eh // 2) * (ew // 2)
    shrink(_plane(frame, 0), (ew, eh), buf[:eh])
    shrink(_plane(frame, 1), (ew // 2, eh // 2), chroma[:n].reshape(eh // 2, ew // 2))
    shrink(_plane(frame, 2), (ew // 2, eh // 2), chroma[n:].reshape(eh // 2, ew // 2))
    bgr = cv2.cvtColor(buf, cv2.COLOR_YUV2BGR_I420)
    return bgr if (ew, eh) == (w, h) else cv2.resize(bgr, (w, h), interpolation=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------- PyAV


class _OpenFailed(Exception):
    """PyAV could not open a file; ``error`` is the typed error to raise.

    ``final`` says that no other decoder should be tried (a still image, audio only).
    """

    def __init__(self, error: Exception, *, final: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.final = final


def _diagnose_open_error(p: Path, exc: Exception) -> Exception:
    """A user-facing error for a file FFmpeg refused to open."""
    if isinstance(exc, PermissionError):
        return UnreadableFileError(f"{p}: permission denied")
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp":
        return CorruptVideoError(
            f"{p}: an MP4/MOV file whose index (moov atom) cannot be read; it is probably "
            "truncated or still being written"
        )
    return NotAVideoError(f"{p}: not a video file (unknown format or damaged data)")


def open_av(p: Path) -> tuple[Any, Any]:
    """Open ``p`` with PyAV; return ``(container, video_stream)``.

    Raises
    ------
    _OpenFailed
        Wrapping the typed error to raise if no other decoder does better.
    """
    if av is None:
        raise _OpenFailed(VideoError(f"{p}: PyAV is not installed"))
    try:
        container = av.open(os.fspath(p), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, OSError, UnicodeError) as exc:
        raise _OpenFailed(_diagnose_open_error(p, exc)) from exc
    try:
        if container.format.name in _STILL_FORMATS or container.format.name.endswith("_pipe"):
            raise _OpenFailed(
                NotAVideoError(f"{p}: a still image ({container.format.name}), not a video"),
                final=True,
            )
        streams = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
        if not streams:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise _OpenFailed(
                NotAVideoError(f"{p}: has no video stream (contains: {', '.join(kinds)})"),
                final=True,
            )
        stream = streams[0]
        # Frame threads keep both cores busy on long GOPs; FFmpeg picks the count.
        stream.codec_context.thread_type = "AUTO"
    except BaseException:
        container.close()
        raise
    return container, stream


def av_geometry(stream: Any, frame: Any) -> Geometry:
    """Geometry of ``stream`` from its first decoded ``frame`` (which carries the matrix)."""
    sar = stream.sample_aspect_ratio
    rot = rotation_cw(getattr(frame, "rotation", 0))
    if rot == 0:
        # Old files carry a "rotate" tag instead of a display matrix.
        tag = (stream.metadata or {}).get("rotate")
        try:
            rot = int(round(float(tag) / 90.0) * 90) % 360 if tag is not None else 0
        except ValueError:
            rot = 0
    return Geometry(
        frame.width, frame.height, rot, Fraction(sar) if sar and sar > 0 else Fraction(1)
    )


def av_origin(stream: Any) -> int:
    """The pts (in ``stream.time_base``) that counts as time 0: the stream's start time."""
    return int(stream.start_time) if stream.start_time is not None else 0


def av_nominal_fps(stream: Any) -> float:
    """The stream's nominal frame rate, or 0.0 when the container gives none."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and 0 < rate < 10_000:
            return float(rate)
    return 0.0


def av_expected(container: Any, stream: Any) -> tuple[int, float]:
    """``(frames, seconds)`` the headers announce for the stream; 0 where unknown."""
    frames = int(stream.frames or 0)
    seconds = 0.0
    if stream.duration is not None and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    if seconds <= 0:
        tag = (stream.metadata or {}).get("DURATION")  # Matroska writes one per stream
        if tag:
            try:
                hh, mm, ss = tag.split(":")
                seconds = int(hh) * 3600 + int(mm) * 60 + float(ss)
            except ValueError:
                seconds = 0.0
    if seconds <= 0 and container.duration:
        seconds = container.duration / 1_000_000
    return frames, max(seconds, 0.0)


@dataclass
class DecodeStats:
    """What went wrong while decoding (read by the truncation check)."""

    packet_errors: int = 0
    first_error: str = ""
    demux_error: str = ""
    corrupt_frames: int = 0


def decode_av(container: Any, stream: Any, stats: DecodeStats) -> Iterator[Any]:
    """Yield the decoded frames of ``stream`` in presentation order, surviving damage.

    A packet the decoder rejects is counted and skipped; a demuxer error ends reading
    (the file is cut there) after flushing the frames the decoder still holds.
    """
    try:
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except av.error.FFmpegError as exc:
                stats.packet_errors += 1
                stats.first_error = stats.first_error or str(exc)
                continue
            for frame in frames:
                stats.corrupt_frames += bool(frame.is_corrupt)
                yield frame
    except av.error.FFmpegError as exc:
        stats.demux_error = str(exc)
        try:
            frames = stream.decode(None)
        except av.error.FFmpegError:
            frames = []
        yield from frames


def damage_report(
    p: Path,
    container: Any | None,
    stats: DecodeStats,
    decoded: int,
    last_end_s: float,
    expected_frames: int,
    expected_s: float,
) -> str:
    """A one-line warning if decoding looks incomplete, else ``""``.

    Parameters
    ----------
    decoded : int
        Frames decoded.
    last_end_s : float
        Time at which the last decoded frame stops showing.
    expected_frames, expected_s : int, float
        What the headers announce (0 when unknown).
    """
    reasons = []
    if expected_frames > 0 and decoded < expected_frames - 1:
        reasons.append(f"the header announces {expected_frames} frames")
    # A missing tail longer than a second (or a tenth of the clip) is not rounding.
    if expected_s > 0 and expected_s - last_end_s > max(1.0, 0.1 * expected_s):
        reasons.append(f"the header announces {expected_s:.2f} s")
    if stats.demux_error:
        reasons.append(f"reading stopped early ({stats.demux_error})")
    if stats.packet_errors:
        reasons.append(
            f"{stats.packet_errors} packet(s) could not be decoded ({stats.first_error})"
        )
    if stats.corrupt_frames:
        reasons.append(f"{stats.corrupt_frames} frame(s) are flagged corrupt")
    if container is not None and container.format.name == "mpegts":
        size = p.stat().st_size
        if all(size % n for n in _TS_PACKET_SIZES):
            reasons.append("the transport stream ends in the middle of a packet")
    if not reasons:
        return ""
    return (
        f"{p.name}: decoded {decoded} frame(s) up to {last_end_s:.2f} s, but "
        f"{'; '.join(reasons)}: the file looks truncated or damaged; "
        "using the frames that could be read"
    )


# --------------------------------------------------------------------------- OpenCV


def open_cv(p: Path) -> cv2.VideoCapture:
    """Open ``p`` with OpenCV (rotation metadata applied by OpenCV itself).

    Raises
    ------
    NotAVideoError
    """
    cap = cv2.VideoCapture(os.fspath(p))
    if not cap.isOpened():
        cap.release()
        raise NotAVideoError(f"{p}: not a video file (unknown format or damaged data)")
    # OpenCV rotates by default; state it, since the whole module relies on it.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def cv_fourcc(cap: cv2.VideoCapture) -> str:
    """The four-character codec code OpenCV reports, lower-case, or ``"unknown"``."""
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ").lower()
    return text if text.isprintable() and text else "unknown"
