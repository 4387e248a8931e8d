"""SMPTE timecode (``HH:MM:SS:FF``) of video frames, at each clip's own frame rate.

The timecode is non-drop-frame: frames are counted in a base of the nominal integer
rate (30 for 29.97 fps, 24 for 23.976 fps), as editing software labels NTSC media
when drop-frame is off. At 29.97 fps such a timecode runs 0.1 % slower than the wall
clock (3.6 s per hour); drop-frame timecode (``HH:MM:SS;FF``) is not implemented
because the clips compared here are seconds to minutes long.
"""

from __future__ import annotations

import math

import numpy as np

#: Broadcast and camera rates a measured rate snaps to (NTSC rates exactly).
STANDARD_RATES = (
    24000 / 1001,
    24.0,
    25.0,
    30000 / 1001,
    30.0,
    48.0,
    50.0,
    60000 / 1001,
    60.0,
    100.0,
    120000 / 1001,
    120.0,
)
# 29.97 and 30 differ by 0.1 %: a tolerance of 0.05 % tells them apart.
_SNAP = 5e-4


def nominal_rate(times: np.ndarray | None) -> float | None:
    """The frame rate of a clip from its frames' presentation times.

    Parameters
    ----------
    times : numpy.ndarray, shape (N,)
        Seconds of every frame, increasing.

    Returns
    -------
    float or None
        Frames per second from the typical frame interval, snapped to a
        :data:`STANDARD_RATES` entry within 0.05 % (container time bases round
        presentation times); ``None`` with fewer than two frames.
    """
    if times is None or len(times) < 2:
        return None
    steps = np.diff(np.asarray(times, dtype=np.float64))
    steps = steps[steps > 0]
    if not len(steps):
        return None
    # The mean of the typical steps: a median alone keeps the millisecond rounding of
    # container time bases (0.042 s at 23.976 fps), gaps and stutters stay out.
    median = float(np.median(steps))
    raw = 1.0 / float(np.mean(steps[np.abs(steps - median) <= 0.25 * median]))
    best = min(STANDARD_RATES, key=lambda r: abs(raw / r - 1.0))
    return best if abs(raw / best - 1.0) < _SNAP else raw


def timebase(rate: float) -> int:
    """Frames per timecode second: the nominal integer rate (30 for 29.97 fps)."""
    return max(1, round(rate))


def timecode(frame: int, rate: float) -> str:
    """``"HH:MM:SS:FF"`` of frame ``frame`` (0 = ``00:00:00:00``) at ``rate`` fps.

    Non-drop-frame (see the module docstring); a negative ``frame`` gets a ``-``.

    Parameters
    ----------
    frame : int
        Frame number counted from the clip's first frame.
    rate : float
        The clip's frame rate (:func:`nominal_rate`).

    Returns
    -------
    str
    """
    base = timebase(rate)
    sign = "-" if frame < 0 else ""
    frame = abs(int(frame))
    seconds, ff = divmod(frame, base)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def frames_in(seconds: float, rate: float) -> int:
    """Whole frames of a ``rate`` fps clip that start within ``seconds`` (floor).

    A thousandth of a frame of slack absorbs float error (``0.2 * 25`` is frame 5).
    """
    return math.floor(seconds * rate + 1e-3)


def rate_label(rate: float) -> str:
    """``"29.97 fps"``, ``"25 fps"``: the rate as editors write it."""
    return f"{round(rate, 3):g} fps"
