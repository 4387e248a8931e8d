"""The contract of long work: a progress callback, a cancel token and ``Cancelled``.

Every long core function takes ``progress`` and ``cancel`` keyword arguments, reports
progress between blocks and calls :meth:`CancelToken.raise_if_cancelled` there. The GUI
runs such functions in one generic worker; the CLI passes a terminal progress printer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from avr_gui.core.errors import AvrError

#: ``progress(done, total, message)``; ``total`` may be 0 when unknown.
ProgressCallback = Callable[[int, int, str], None]


class Cancelled(AvrError):
    """Raised by long work that stopped because its cancel token was set."""


class CancelToken:
    """A thread-safe flag that long work polls between blocks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def no_progress(done: int, total: int, message: str) -> None:
    """A progress callback that ignores every report."""


def check(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set; accept ``None`` for "never"."""
    if cancel is not None:
        cancel.raise_if_cancelled()
