"""One half of the synced player as the GUI holds it, playback counters and captions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtGui

from avr_gui.core.playback import Track
from avr_gui.core.timecode import nominal_rate, rate_label, timecode
from avr_gui.gui.frame_source import FrameSource
from avr_gui.gui.skeleton_overlay import landmarks_for_frame


@dataclass
class PlaybackStats:
    """Frames ready when due vs shown late, counted per side while playing.

    ``late`` includes ``skipped`` frames (due but replaced by the next one before the
    decoder delivered them); ``late_ms`` holds how late each late-but-shown frame was.
    """

    on_time: int = 0
    late: int = 0
    skipped: int = 0
    late_ms: list[float] = field(default_factory=list)

    def reset(self) -> None:
        """Start counting afresh."""
        self.on_time, self.late, self.skipped, self.late_ms = 0, 0, 0, []


class Side:
    """The state of one half of the player (GUI thread only).

    Frame times and the nudge live in the clock's :class:`~avr_gui.core.playback.Track`
    (``times``, ``offset`` and the index arithmetic pass through to it); the decoder,
    the picture and its bookkeeping live here.
    """

    def __init__(self, name: str, track: Track) -> None:
        self.name = name
        self.track = track
        self.source: FrameSource | None = None
        self.shown: int | None = None
        self.image: QtGui.QImage | None = None
        self.due: int | None = None
        self.due_since = 0.0
        self.pose = None  # PoseTrack of this video, if the library has one
        self.damage = ""  # "damaged: plays to 4.1 s of 10.0 s" for a file cut short
        self.rate: float | None = None  # frames per second, once the video opened

    @property
    def times(self) -> np.ndarray | None:
        """Presentation time of every frame ``[N]``; None until the video opened."""
        return self.track.times

    @times.setter
    def times(self, value: np.ndarray | None) -> None:
        self.track.times = value
        # The timecode counts frames at the clip's own rate (none for a single frame).
        self.rate = nominal_rate(value)

    @property
    def offset(self) -> float:
        """This side's nudge (seconds)."""
        return self.track.offset

    @offset.setter
    def offset(self, value: float) -> None:
        self.track.offset = float(value)

    def index_at(self, t: np.ndarray | float) -> np.ndarray:
        """Frame on screen at time(s) ``t`` of this clip."""
        return self.track.index_at(t)

    def frame_step(self, index: int) -> float:
        """Duration of frame ``index`` (seconds)."""
        return self.track.frame_step(index)

    def pose_now(self) -> tuple[np.ndarray, tuple[int, int]] | None:
        """Landmarks ``[33, 3]`` of the shown frame and the source size, if tracked."""
        if self.pose is None or self.shown is None or self.times is None:
            return None
        lm = landmarks_for_frame(self.pose, float(self.times[self.shown]))
        return None if lm is None else (lm, tuple(self.pose.frame_size))


def caption(name: str, index: int | None, rate: float | None, damage: str = "") -> str:
    """``"Query  00:00:01:12  frame 37  25 fps"``, plus the damage note of a file cut short.

    The timecode is SMPTE ``HH:MM:SS:FF`` of frame ``index`` at the clip's own ``rate``
    (non-drop-frame, :func:`avr_gui.core.timecode.timecode`); frame numbers count from 0.
    """
    if index is None:
        return name
    if rate is None:
        text = f"{name}  frame {index}"
    else:
        text = f"{name}  {timecode(index, rate)}  frame {index}  {rate_label(rate)}"
    return f"{text}  ({damage})" if damage else text


def fmt_time(t: float) -> str:
    """``"-01:02.345"``: minutes and seconds to the millisecond."""
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{int(t // 60):02d}:{t % 60:06.3f}"
