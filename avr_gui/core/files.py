"""Checks of a path a user hands over, before any reader opens it.

One place for what "a readable input file" means (it exists, is a regular file, is
not empty, can be read), so every kind of input gives the same one-line errors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from avr_gui.core.errors import (
    EmptyFileError,
    InputError,
    MissingFileError,
    NotAFileError,
    UnreadableFileError,
)


def check_input_file(path: str | bytes | os.PathLike[str], kind: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` once it names a readable, non-empty file.

    Parameters
    ----------
    path : str, bytes or path-like
    kind : str
        What the file should be, for the messages ("video", "NumPy").

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        ``path`` is not a string or path.
    MissingFileError, NotAFileError, EmptyFileError, UnreadableFileError
        One line each, naming the path.
    """
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"a {kind} path must be a string or path, got {type(path).__name__}")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such file") from None
    except PermissionError:
        raise UnreadableFileError(f"{p}: permission denied") from None
    except OSError as exc:
        raise UnreadableFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise NotAFileError(f"{p}: is a folder, not a {kind} file")
    if not stat.S_ISREG(st.st_mode):
        raise NotAFileError(f"{p}: is not a regular file")
    if st.st_size == 0:
        raise EmptyFileError(f"{p}: the file is empty (0 bytes)")
    if not os.access(p, os.R_OK):
        raise UnreadableFileError(f"{p}: permission denied")
    return p
