"""Decode a video and sample frames at a target rate by timestamp.

Sampling follows the decoder's presentation timestamps, not frame counts, so variable
frame rate video is sampled evenly in time. OpenCV applies rotation metadata itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from avr_gui.core.errors import NoFramesError, UnsupportedFileError, VideoError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress


@dataclass(frozen=True)
class SampledFrame:
    """One decoded frame chosen by the sampler.

    Attributes
    ----------
    time : float
        Presentation time in seconds in the source file.
    index : int
        Index of the frame in decode order in the source file.
    image : numpy.ndarray, shape (H, W, 3), uint8
        BGR pixels.
    """

    time: float
    index: int
    image: np.ndarray


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise UnsupportedFileError(f"{path}: no such file")
    if path.is_dir():
        raise UnsupportedFileError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise UnsupportedFileError(f"{path}: the file is empty")
    cap = cv2.VideoCapture(os.fspath(path))
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{path}: not a video OpenCV can open (unknown format or corrupt)")
    return cap


def sample_frames(
    path: str | os.PathLike[str],
    fps: float = 10.0,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Iterator[SampledFrame]:
    """Yield frames of ``path`` sampled at about ``fps`` frames per second.

    A frame is kept when its timestamp reaches the next sampling instant, so the kept
    frames are the source frames nearest (at or after) a regular grid.

    Parameters
    ----------
    path : path-like
    fps : float
        Target sampling rate (> 0); rates above the source's keep every frame.
    progress : callable
        ``progress(done_frames, total_frames, message)`` every 50 decoded frames.
    cancel : CancelToken, optional

    Yields
    ------
    SampledFrame

    Raises
    ------
    UnsupportedFileError, VideoError, NoFramesError
    """
    if not fps > 0:
        raise VideoError(f"the sampling rate must be positive, got {fps}")
    p = Path(path)
    cap = _open(p)
    try:
        total = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        src_fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        step = 1.0 / fps
        next_t = 0.0
        index = -1
        kept = 0
        last_t = -1.0
        while True:
            if index % 50 == 49:
                check(cancel)
                progress(index + 1, total, f"decoding {p.name}")
            ok, image = cap.read()
            if not ok:
                break
            index += 1
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not np.isfinite(t) or t < last_t or (t == 0.0 and index > 0):
                # Some containers report no timestamps: fall back to the nominal rate.
                t = index / src_fps if src_fps > 0 else index * step
            last_t = t
            if t + 1e-6 >= next_t:
                kept += 1
                yield SampledFrame(t, index, image)
                while next_t <= t + 1e-6:
                    next_t += step
        if kept == 0:
            raise NoFramesError(f"{p}: no decodable frames (the file may be truncated or corrupt)")
    finally:
        cap.release()
