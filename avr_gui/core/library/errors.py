"""Errors of the video library (all under :class:`~avr_gui.core.errors.AvrError`)."""

from __future__ import annotations

from avr_gui.core.errors import AvrError, InputError


class LibraryError(AvrError):
    """The library index cannot be used as asked."""


class EncoderMismatchError(LibraryError):
    """Features of another encoder (or version) were offered to an existing index."""


class LibraryCorruptError(LibraryError):
    """The index folder holds something that is not a usable catalog."""


class LibraryBusyError(LibraryError):
    """Another process is indexing this library right now."""


class NotIndexedError(LibraryError, InputError):
    """A path names no indexed video of the library."""


class EmptyLibraryError(LibraryError):
    """A query was made against a library with no indexed videos."""
