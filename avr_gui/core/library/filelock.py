"""An exclusive lock on a file, held by one process at a time (indexing, training).

``flock`` on a ``.lock`` file: the kernel releases it when the holder closes it or
dies (a killed run never leaves the library locked). Windows has no ``fcntl``: runs
are not guarded against each other there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from avr_gui.core.library.errors import LibraryBusyError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def exclusive_lock(path: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Parameters
    ----------
    path : pathlib.Path
        The lock file.
    busy : str
        The one-line message of the :class:`LibraryBusyError` raised when another
        process holds it.

    Raises
    ------
    LibraryBusyError
        Another process holds the lock.
    """
    if fcntl is None:
        yield
        return
    fh = open(path, "a+b")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise LibraryBusyError(busy) from exc
        yield
    finally:
        fh.close()  # also releases the lock; a killed process releases it too


def is_locked(path: Path) -> bool:
    """Whether another process holds the lock on ``path`` now (False if it is missing).

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    bool
    """
    if fcntl is None or not path.is_file():
        return False
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
    return False
