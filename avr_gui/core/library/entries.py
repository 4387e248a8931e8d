"""What a library reports about itself: its counts, its videos, its sampling rate."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Frame sampling rate of library features.
DEFAULT_FPS = 10.0


@dataclass(frozen=True)
class LibraryStatus:
    """Counts of the catalog and its failures.

    Attributes
    ----------
    videos, indexed, failed, pending : int
    failures : list of (path, reason)
    damaged : list of (path, readable seconds, nominal seconds)
        Indexed videos that decode only part of their length (used up to the damage).
    """

    videos: int
    indexed: int
    failed: int
    pending: int
    failures: list[tuple[str, str]]
    damaged: list[tuple[str, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class VideoEntry:
    """One video of the library as the GUI lists it.

    Attributes
    ----------
    path : str
    status : {"indexed", "failed", "pending"}
    reason : str or None
        Why it failed (or a decode warning of an indexed, partly damaged file).
    duration, fps : float
    width, height : int
    n_features : int
        Feature frames stored.
    has_person : bool or None
        Pose libraries: True when some frame shows a tracked person (a usable pose),
        False when none does. None when the library's encoder has no pose, and for
        clips not indexed (yet) or indexed before tracks were stored.
    damaged_at : float or None
        A damaged (e.g. truncated) video: the seconds it can be read to, where its
        features, playback and export stop. None when intact.
    """

    path: str
    status: str
    reason: str | None
    duration: float
    fps: float
    width: int
    height: int
    n_features: int
    has_person: bool | None = None
    damaged_at: float | None = None
