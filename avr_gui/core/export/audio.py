"""Audio for an export: the kept clip's own sound, or the other clip's sound retimed.

Retiming is *varispeed*: every output sample is read from the other clip at the time
the warp curve gives for it (linear interpolation between source samples), so sound
stays in sync with the retimed picture at every instant; where the picture plays
faster the sound plays faster and higher, where slower, slower and lower, like tape.
Where the picture nearly holds still (less than a quarter of normal speed) the sound
fades out rather than turning into a low rumble, and outside the other clip's audio
there is silence.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import av
import numpy as np

from avr_gui.core.errors import CorruptVideoError
from avr_gui.core.export.encode import AudioTrack
from avr_gui.core.export.framemap import WarpCurve
from avr_gui.core.jobs import CancelToken, check

# Below this speed (source seconds per output second) the sound fades to silence.
_MIN_SPEED = 0.25
# Gain changes are smoothed over this long (seconds) so they never click.
_FADE_S = 0.01
# Sample rates the AAC encoder accepts; anything else is resampled to 48 kHz.
_AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


def load_audio(
    path: str | os.PathLike[str],
    *,
    cancel: CancelToken | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> tuple[AudioTrack, float] | None:
    """Decode the first audio stream of a file (mono or stereo, float).

    Parameters
    ----------
    path : path-like
    cancel : CancelToken, optional
    on_warning : callable, optional
        Told when part of the audio could not be decoded.

    Returns
    -------
    (AudioTrack, float) or None
        The samples and the time (seconds, on the video stream's clock: 0 = first
        video frame's origin) of the first sample; ``None`` when the file has no audio.
    """
    try:
        container = av.open(os.fspath(path), "r", metadata_errors="replace")
    except (OSError, av.error.FFmpegError) as exc:
        raise CorruptVideoError(f"{path}: cannot open to read its audio ({exc})") from exc
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        video = container.streams.video[0] if container.streams.video else None
        origin = 0.0
        if video is not None and video.start_time is not None:
            origin = float(video.start_time * video.time_base)
        channels = min(2, stream.codec_context.channels or 1)
        rate = stream.codec_context.sample_rate or 48000
        rate = rate if rate in _AAC_RATES else 48000
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        parts: list[np.ndarray] = []
        start: float | None = None
        try:
            for k, frame in enumerate(container.decode(stream)):
                if k % 64 == 0:
                    check(cancel)
                if start is None and frame.pts is not None and frame.time_base is not None:
                    start = float(frame.pts * frame.time_base) - origin
                parts.extend(f.to_ndarray() for f in resampler.resample(frame))
        except av.error.FFmpegError as exc:
            if on_warning is not None:
                on_warning(f"{os.fspath(path)}: audio decoding stopped early ({exc})")
        parts.extend(f.to_ndarray() for f in resampler.resample(None))
    if not parts:
        return None
    samples = np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)
    return AudioTrack(samples.reshape(channels, -1), rate), start or 0.0


def fit_audio(track: AudioTrack, start_s: float, t0: float, duration_s: float) -> AudioTrack:
    """The kept clip's own audio, cut or padded with silence to span the output.

    Parameters
    ----------
    track : AudioTrack
    start_s : float
        Time of the track's first sample on the video clock.
    t0 : float
        Video time at which the output starts (its first frame).
    duration_s : float
        Length of the output.

    Returns
    -------
    AudioTrack
        ``round(duration_s * rate)`` samples per channel.
    """
    n = round(duration_s * track.rate)
    out = np.zeros((track.samples.shape[0], n), np.float32)
    offset = round((start_s - t0) * track.rate)  # where the track's first sample lands
    src_from = max(0, -offset)
    dst_from = max(0, offset)
    count = min(track.samples.shape[1] - src_from, n - dst_from)
    if count > 0:
        out[:, dst_from : dst_from + count] = track.samples[:, src_from : src_from + count]
    return AudioTrack(out, track.rate)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or x.size == 0:
        return x
    c = np.cumsum(np.r_[np.zeros(width // 2 + 1), x, np.full(width // 2, x[-1])])
    return (c[width:] - c[:-width])[: x.size] / width


def retime_audio(
    track: AudioTrack, start_s: float, curve: WarpCurve, t0: float, duration_s: float
) -> AudioTrack:
    """The other clip's audio played along a warp curve (varispeed).

    Parameters
    ----------
    track : AudioTrack
        Audio of the clip being retimed.
    start_s : float
        Time of its first sample on that clip's video clock.
    curve : WarpCurve
        Kept-clip seconds -> retimed-clip seconds (monotone).
    t0 : float
        Kept-clip time at which the output starts.
    duration_s : float
        Length of the output.

    Returns
    -------
    AudioTrack
        ``round(duration_s * rate)`` samples per channel, at ``track.rate``.
    """
    rate = track.rate
    n = round(duration_s * rate)
    t = t0 + np.arange(n, dtype=np.float64) / rate
    src = (curve(t) - start_s) * rate  # fractional source sample positions
    total = track.samples.shape[1]
    inside = (src >= 0) & (src <= total - 1)
    pos = np.clip(src, 0, max(total - 1, 0))
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, total - 1)
    frac = (pos - i0).astype(np.float32)
    out = track.samples[:, i0] * (1 - frac) + track.samples[:, i1] * frac
    speed = np.gradient(src) if n > 1 else np.ones(n)
    gain = np.clip(speed / _MIN_SPEED, 0.0, 1.0) * inside
    gain = _smooth(gain, round(_FADE_S * rate)).astype(np.float32)
    return AudioTrack(np.ascontiguousarray(out * gain, dtype=np.float32), rate)
