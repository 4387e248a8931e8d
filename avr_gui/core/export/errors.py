"""Errors of the export: where an output cannot go, what cannot be encoded, bad map files."""

from __future__ import annotations

from avr_gui.core.errors import AvrError, InputError


class ExportError(AvrError):
    """An export could not be produced."""


class OutputPathError(ExportError, InputError):
    """The output path cannot be written: no such folder, no permission, not a file."""


class EncoderUnavailableError(ExportError):
    """The FFmpeg inside PyAV has no usable video or audio encoder for the output."""


class TimeMapFileError(InputError):
    """A stored time map (CSV / JSON) is missing, malformed or does not fit the clips."""
