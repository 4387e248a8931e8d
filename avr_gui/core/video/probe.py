"""What a video file holds: duration, rates, frame count, display size, rotation, codec."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import avr_gui.core.video._decoders as B
from avr_gui.core.errors import NoFramesError
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()

#: Frames whose timestamps decide whether the frame rate is variable.
VFR_WINDOW = 300
# Largest B-frame reordering we expect: the last packets of a window may still be
# missing earlier-shown frames, so their timestamps are left out of the VFR test.
_REORDER_MARGIN = 16


@dataclass(frozen=True)
class VideoInfo:
    """Facts about one video file, as :func:`probe` found them.

    Attributes
    ----------
    path : str
    duration_s : float
        Length of the video stream in seconds (header value; estimated from the frame
        count when the header has none).
    fps : float
        Nominal frame rate (the container's average rate); 0.0 when unknown.
    variable_frame_rate : bool
        Whether the real timestamps of the first :data:`VFR_WINDOW` frames are
        irregular: more than one interval (and more than 2 % of them) deviates from
        the median interval by over 10 % (and by over 1.5 timestamp ticks, so
        millisecond rounding of a constant rate does not count).
    frame_count : int
        Number of frames: exact when ``frame_count_exact``, else estimated as
        ``round(duration_s * fps)``.
    width, height : int
        Display size in pixels, i.e. after the pixel aspect ratio and the rotation
        (portrait phone video reports ``height > width``). Frames decoded by this
        module have this size unless resized. OpenCV ignores the pixel aspect ratio:
        under it, anamorphic video reports (and decodes to) its stored width.
    rotation : int
        Clockwise rotation a player applies, in {0, 90, 180, 270}, from the stream's
        display matrix (or an old-style ``rotate`` tag).
    codec : str
        FFmpeg codec name (``"h264"``, ``"mpeg4"``, ...) or the FourCC under OpenCV.
    has_audio : bool
        Whether the file has an audio stream (always ``False`` under OpenCV, which
        cannot tell).
    coded_width, coded_height : int
        Size of the stored picture, before aspect and rotation.
    frame_count_exact : bool
        Whether ``frame_count`` was counted or read from an exact header field.
    start_time_s : float
        Presentation time of the stream's start in the file's clock; every timestamp
        this module reports is relative to it.
    container : str
        FFmpeg format name (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"matroska,webm"``, ...);
        ``"unknown"`` under OpenCV.
    decoder : str
        ``"pyav"`` or ``"opencv"``: which library read the file.
    """

    path: str
    duration_s: float
    fps: float
    variable_frame_rate: bool
    frame_count: int
    width: int
    height: int
    rotation: int
    codec: str
    has_audio: bool
    coded_width: int
    coded_height: int
    frame_count_exact: bool
    start_time_s: float
    container: str
    decoder: str


def probe(
    path: str | os.PathLike[str], *, count_frames: bool = False, decoder: B.Decoder = "auto"
) -> VideoInfo:
    """Read the facts of a video file: size, rotation, rates, duration, codec.

    Reads the headers, the packet timestamps of the first :data:`VFR_WINDOW` frames
    and decodes the first frame (which carries the rotation and proves the file is
    decodable). Cheap: it does not decode the file.

    Parameters
    ----------
    path : path-like
    count_frames : bool
        Count the frames exactly by reading every packet (no decoding) when the header
        has no count (Matroska, MPEG-TS, WebM). Reads the whole file.
    decoder : {"auto", "pyav", "opencv"}
        ``"auto"`` uses PyAV and falls back to OpenCV when PyAV cannot open the file.

    Returns
    -------
    VideoInfo

    Raises
    ------
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
        The path does not name a readable, non-empty file.
    NotAVideoError, CorruptVideoError
        Not a readable video (text, audio only, still image, MP4 cut before its index).
    NoFramesError
        The file opened but its first frame cannot be decoded.
    """
    B.check_decoder(decoder)
    p = B.check_path(path)
    if decoder == "opencv":
        return _probe_cv(p)
    try:
        container, stream = B.open_av(p)
    except B._OpenFailed as failed:
        if decoder == "pyav" or failed.final:
            raise failed.error from failed.__cause__
        try:
            return _probe_cv(p)
        except Exception:
            raise failed.error from failed.__cause__  # PyAV's diagnosis is the clearer one
    with container:
        return _probe_av(p, container, stream, count_frames)


def is_variable_rate(times: np.ndarray, tick: float) -> bool:
    """Whether presentation times are irregular (variable frame rate).

    Parameters
    ----------
    times : numpy.ndarray, shape (N,)
        Presentation times in seconds, any order (sorted and de-duplicated here).
    tick : float
        Timestamp resolution in seconds (one unit of the time base): deviations of
        about one tick are rounding, not a variable rate.

    Returns
    -------
    bool
        True when more than one interval, and more than 2 % of them, deviates from the
        median interval by more than ``max(10 % of the median, 1.5 ticks)``.
    """
    d = np.diff(np.unique(np.asarray(times, dtype=np.float64)))
    if len(d) < 2:
        return False
    median = float(np.median(d))
    tolerance = max(0.1 * median, 1.5 * tick)
    irregular = int(np.count_nonzero(np.abs(d - median) > tolerance))
    return irregular > max(1, 0.02 * len(d))


def _probe_av(p: Path, container: Any, stream: Any, count_frames: bool) -> VideoInfo:
    tb = stream.time_base
    origin = B.av_origin(stream)
    pts: list[int] = []
    packets = 0
    first = None
    complete = True
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end
                if first is None:
                    first = next(iter(stream.decode(None)), None)
                continue
            packets += 1
            if packet.pts is not None and len(pts) < VFR_WINDOW:
                pts.append(packet.pts)
            if first is None:
                try:
                    first = next(iter(stream.decode(packet)), None)
                except B.av.error.FFmpegError:
                    pass  # a damaged early packet: the next keyframe may still decode
            if first is not None and len(pts) >= VFR_WINDOW and not count_frames:
                complete = False
                break
    except B.av.error.FFmpegError:
        complete = False  # a truncated file: what was read is all there is to judge
    if first is None:
        raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
    geometry = B.av_geometry(stream, first)
    header_frames, duration_s = B.av_expected(container, stream)
    fps = B.av_nominal_fps(stream)
    times = (np.sort(np.asarray(pts, dtype=np.float64)) - origin) * float(tb)
    if not complete and len(times) > 2 * _REORDER_MARGIN:
        times = times[:-_REORDER_MARGIN]
    if fps <= 0 and len(times) > 1:
        fps = 1.0 / float(np.median(np.diff(times)))
    if complete:
        frame_count, exact = packets, True
    elif header_frames > 0:
        frame_count, exact = header_frames, True
    else:
        frame_count, exact = (round(duration_s * fps) if fps > 0 else 0), False
    if duration_s <= 0 and fps > 0:
        duration_s = frame_count / fps
    width, height = geometry.display_size
    return VideoInfo(
        path=str(p),
        duration_s=duration_s,
        fps=fps,
        variable_frame_rate=is_variable_rate(times, float(tb)),
        frame_count=frame_count,
        width=width,
        height=height,
        rotation=geometry.rotation,
        codec=stream.codec_context.name,
        has_audio=bool(container.streams.audio),
        coded_width=geometry.coded_width,
        coded_height=geometry.coded_height,
        frame_count_exact=exact,
        start_time_s=origin * float(tb),
        container=container.format.name,
        decoder="pyav",
    )


def _probe_cv(p: Path) -> VideoInfo:
    cap = B.open_cv(p)
    try:
        times: list[float] = []
        shape = None
        complete = True
        while len(times) < VFR_WINDOW:
            ok, image = cap.read()
            if not ok:
                break
            shape = shape or image.shape
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if math.isfinite(t):
                times.append(t)
        else:
            complete = not cap.grab()
        if shape is None:
            raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
        rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not 0 < fps < 10_000:
            fps = 0.0
        if complete:
            frame_count, exact = len(times), True
        else:
            frame_count, exact = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0), False
        height, width = shape[:2]  # OpenCV already rotated the frame
        coded = (height, width) if rotation in (90, 270) else (width, height)
        return VideoInfo(
            path=str(p),
            duration_s=frame_count / fps if fps > 0 else 0.0,
            fps=fps,
            variable_frame_rate=is_variable_rate(np.asarray(times), 1e-3),
            frame_count=frame_count,
            width=width,
            height=height,
            rotation=rotation,
            codec=B.cv_fourcc(cap),
            has_audio=False,
            coded_width=coded[0],
            coded_height=coded[1],
            frame_count_exact=exact,
            start_time_s=0.0,
            container="unknown",
            decoder="opencv",
        )
    finally:
        cap.release()
