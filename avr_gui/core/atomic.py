"""Atomic file writes: a temporary file beside the target, flushed, then moved into place.

A killed process leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it over ``target``.

    Parameters
    ----------
    target : path-like
        Final location. Its folder must exist.
    suffix : str, optional
        Suffix of the temporary file (some writers pick a format from it); defaults to
        the target's own suffix.

    Yields
    ------
    pathlib.Path
        Where to write. Removed if the block raises.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp"
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); the user's files get the permissions
        # any program would give them (0666 minus the umask), or the old file's own.
        os.chmod(tmp_path, _mode_for(target))
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def _umask() -> int:
    # Reading the umask means setting it; done once, before any worker thread writes.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    write_bytes(target, text.encode("utf-8"))
