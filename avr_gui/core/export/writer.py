"""Frames to a finished file: encode into a temporary file, move it into place when done.

Every video export (:func:`~avr_gui.core.export.retime.export_video`,
:func:`~avr_gui.core.export.grid.export_grid`) writes through :func:`write_frames`, so
they share one rule for failures: a cancel, an error or a full disk leave any earlier
file at the target untouched and no partial file behind; a full disk is reported with
an estimate of the space the whole file needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from avr_gui.core.atomic import atomic_path, disk_full_error, is_disk_full
from avr_gui.core.export.encode import AudioTrack, EncodeOptions, VideoSink, container_format
from avr_gui.core.export.errors import ExportError, OutputPathError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.video import prefetch

# Frames between progress reports.
_PROGRESS_EVERY = 10
# Decoded frames held ahead of the encoder (decode and encode overlap on two threads).
_PREFETCH = 4


def _needed_bytes(tmp: Path, done: int, total: int) -> int | None:
    """Estimate of a whole export's size from the part written when the disk filled."""
    try:
        written = tmp.stat().st_size
    except OSError:
        return None
    # Bytes per frame so far, times every frame: the audio and headers ride along.
    return round(written * total / max(done, 1)) if written else None


def write_frames(
    target: Path,
    frames: Iterator[np.ndarray],
    size: tuple[int, int],
    times: np.ndarray,
    fps: float,
    *,
    audio: AudioTrack | None = None,
    options: EncodeOptions | None = None,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> str:
    """Encode ``frames`` to ``target`` atomically.

    Parameters
    ----------
    target : pathlib.Path
        The output file (its folder exists; see
        :func:`~avr_gui.core.export.retime.check_output`).
    frames : iterator of numpy.ndarray, shape (size[1], size[0], 3), uint8
        BGR frames, one per entry of ``times``. Produced on a second thread (one frame
        ahead of the encoder at most a few), so it must not share readers with the
        caller while it runs.
    size : tuple of int
        ``(width, height)``.
    times : numpy.ndarray, shape (N,)
        Presentation time of each frame (seconds).
    fps : float
        Nominal rate.
    audio : AudioTrack, optional
    options : EncodeOptions, optional
    on_warning : callable, optional
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    str
        The video encoder used.

    Raises
    ------
    Cancelled
        Nothing is left at ``target`` but what was there before.
    DiskFullError, OutputPathError, ExportError, EncoderUnavailableError
    """
    n = len(times)
    done = 0
    try:
        with atomic_path(target) as tmp:
            try:
                with VideoSink(
                    tmp,
                    size,
                    times,
                    fps,
                    audio=audio,
                    options=options,
                    fmt=container_format(target),
                    on_warning=on_warning,
                ) as sink:
                    for i, image in enumerate(prefetch(frames, _PREFETCH)):
                        check(cancel)
                        sink.write(image)
                        done = i + 1
                        if done % _PROGRESS_EVERY == 0 or done == n:
                            progress(done, n, "encoding frames")
                    return sink.codec
            except BaseException as exc:
                if is_disk_full(exc):
                    raise disk_full_error(target, _needed_bytes(tmp, done, n)) from exc
                raise
    except OSError as exc:
        raise OutputPathError(f"{target}: cannot write the export ({exc})") from exc
    except av.error.FFmpegError as exc:
        raise ExportError(f"{target}: encoding failed ({exc})") from exc
