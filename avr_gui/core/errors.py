"""One exception hierarchy for everything the core raises on purpose.

Every message is written for a person who is not reading the code: it says what was
wrong with *their* input and, where possible, what to do about it.
"""

from __future__ import annotations


class AvrError(Exception):
    """Root of every error AVR Studio raises deliberately."""


class InputError(AvrError, ValueError):
    """The caller handed over data that cannot be used."""


class EmptySequenceError(InputError):
    """A feature sequence or matrix has no frames."""


class ShapeError(InputError):
    """An array has the wrong number of dimensions or an unusable shape."""


class DimensionMismatchError(ShapeError):
    """Two feature sequences have different feature dimensions."""


class NonFiniteError(InputError):
    """An array holds NaN or infinity."""


class NoPathError(InputError):
    """No monotone path fits the constraints (for example a band that is too narrow)."""


class UnsupportedFileError(InputError):
    """A file is not of a kind AVR Studio can read."""


class VideoError(AvrError):
    """A video could not be opened or decoded."""


class NoFramesError(VideoError):
    """A video opened but yielded zero decodable frames."""


class DeviceError(AvrError):
    """A compute device was requested that is not available."""


class MissingFileError(UnsupportedFileError):
    """A path names no file."""


class NotAFileError(UnsupportedFileError):
    """A path names a folder or something else that is not a regular file."""


class EmptyFileError(UnsupportedFileError):
    """A file has zero bytes."""


class UnreadableFileError(UnsupportedFileError):
    """A file exists but the operating system refuses to let it be read."""


class NotAVideoError(UnsupportedFileError):
    """A file holds no video stream: text, audio only, a still image or an unknown format."""


class CorruptVideoError(VideoError):
    """A file looks like a video but is damaged beyond reading (e.g. an MP4 cut short)."""


class FrameIndexError(InputError, IndexError):
    """A frame index or time lies outside a video."""


class DecodeWarning(UserWarning):
    """A video was only partly decodable; the frames that could be read were used."""


class DiskFullError(AvrError):
    """A file could not be written because its disk (or the user's quota) is full.

    Attributes
    ----------
    path : str
        The file that was being written (the target, not its temporary name).
    needed_bytes : int or None
        Estimate of the space the whole file needs; None when unknown.
    lower_bound : bool
        ``needed_bytes`` is only what had been written when the space ran out.
    free_bytes : int or None
        Space left in the target's folder after the partial file was removed.
    """

    def __init__(
        self,
        path: str,
        needed_bytes: int | None = None,
        free_bytes: int | None = None,
        lower_bound: bool = False,
    ) -> None:
        self.path = path
        self.needed_bytes = needed_bytes
        self.free_bytes = free_bytes
        self.lower_bound = lower_bound
        sizes = []
        if needed_bytes is not None:
            sizes.append(f"needed {'over ' if lower_bound else '~'}{_mb(needed_bytes)}")
        if free_bytes is not None:
            sizes.append(f"{_mb(free_bytes)} free")
        detail = f" ({', '.join(sizes)})" if sizes else ""
        super().__init__(f"{path}: disk full{detail}; free some space or choose another folder")

    def __reduce__(self) -> tuple[type, tuple[str, int | None, int | None, bool]]:
        # Keeps the error intact across process boundaries (worker pools).
        return (type(self), (self.path, self.needed_bytes, self.free_bytes, self.lower_bound))


def _mb(n: int) -> str:
    """``n`` bytes in megabytes for a message ("0.4 MB", "12 MB")."""
    mb = n / 1e6
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"


class AlignmentTooLargeError(InputError):
    """Two sequences are too long to align within the documented memory limit."""
