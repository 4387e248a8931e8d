"""Atomic file writes: a temporary file beside the target, flushed, then moved into place.

A killed process leaves either the old file or the new one, never half of one. What
it does leave is its temporary file; those are named by a pattern of AVR Studio's own,
``.<target name>.avr-tmp-<host>-<pid>-<random><suffix>``, so that the next writer of
the same target can find and delete them (:func:`remove_stale_temps`) without touching
anything another program wrote.

A write that runs out of space (``ENOSPC``, ``EDQUOT``, or the short write NumPy and
some encoders report instead) raises :class:`~avr_gui.core.errors.DiskFullError`
naming the target, after the partial temporary file has been removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from avr_gui.core.errors import DiskFullError

#: Temporaries older than this (seconds) count as abandoned even when their writer
#: cannot be checked (another machine sharing the folder, a reused process id).
STALE_AFTER_S = 3600.0
# Longest part of a target's name kept in its temporary's name: the marker, the host,
# the pid and the random part must still fit a 255-byte file name.
_MAX_STEM = 180
_MARKER = "avr-tmp"
# NumPy's tofile (under np.save) reports a short write so, in items, with no errno.
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# .<stem>.avr-tmp-<host>-<pid>-<random><suffix>; the stem may itself hold dots.
_TEMP_NAME = re.compile(
    rf"^\.(?P<stem>.+)\.{_MARKER}-(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-[a-z0-9_]+(?:\..*)?$"
)


def _host_tag() -> str:
    # A process id means something only on the machine that issued it.
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


_HOST = _host_tag()


def _stem(name: str) -> str:
    return name[:_MAX_STEM]


def temp_prefix(target_name: str) -> str:
    """The start of the name of every temporary file written for ``target_name``.

    Parameters
    ----------
    target_name : str
        File name (no folder) of the target.

    Returns
    -------
    str
        ``.<name>.avr-tmp-<host>-<pid>-``; :func:`atomic_path` appends a random part
        and the suffix.
    """
    return f".{_stem(target_name)}.{_MARKER}-{_HOST}-{os.getpid()}-"


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

    Raises
    ------
    DiskFullError
        The disk or quota filled up while writing (the temporary file is removed).
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=temp_prefix(target.name), suffix=suffix or target.suffix or ".tmp"
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
    except DiskFullError:
        # Raised inside the block by a writer that knew better what it needed.
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
    except BaseException as exc:
        written = _size(tmp_path)
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        if is_disk_full(exc):
            # What was written is all that is known: the whole file needs more.
            raise disk_full_error(target, written, lower_bound=True) from exc
        raise


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) means the disk or the quota is full.

    Looks through the exception's causes, since encoders and archive writers wrap the
    operating system's error in their own. A short write (NumPy's "N requested and M
    written", which carries no errno) counts: on a local disk it only happens when the
    space runs out.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    bool
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, OSError) and (
            current.errno in _DISK_FULL_ERRNOS or _SHORT_WRITE.search(str(current))
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(
    target: str | os.PathLike[str], needed_bytes: int | None, *, lower_bound: bool = False
) -> DiskFullError:
    """A :class:`DiskFullError` for ``target``, with the free space of its folder now.

    Parameters
    ----------
    target : path-like
        The file that could not be written.
    needed_bytes : int or None
        Estimate of the whole file's size (None or 0 when unknown).
    lower_bound : bool
        ``needed_bytes`` is only what was written before the space ran out.
    """
    target = Path(target)
    try:
        free: int | None = shutil.disk_usage(target.parent if str(target.parent) else ".").free
    except OSError:
        free = None
    return DiskFullError(str(target), needed_bytes or None, free, lower_bound)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def remove_stale_temps(
    folder: str | os.PathLike[str],
    target_name: str | None = None,
    older_than_s: float = STALE_AFTER_S,
) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder``.

    Only names of AVR Studio's own pattern (``.<name>.avr-tmp-<host>-<pid>-...``)
    are considered, and only those whose writer is gone: written on this machine by a
    process that no longer exists, or not modified for ``older_than_s`` seconds (a
    writer on another machine sharing the folder, whose process cannot be checked, or
    a process id the system has since given to another program). A temporary being
    written right now is never removed: its process is alive and it keeps changing.

    Parameters
    ----------
    folder : path-like
        Folder to clean (a missing or unreadable folder is left alone).
    target_name : str, optional
        Only the temporaries of this target (a file name without folder); default all.
    older_than_s : float
        Age in seconds beyond which a temporary counts as abandoned whatever its pid.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        if target_name is not None and match.group("stem") != _stem(target_name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        ours = match.group("host") == _HOST
        if age > older_than_s or (ours and not _process_alive(int(match.group("pid")))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when it cannot be told)."""
    if pid <= 0 or os.name == "nt":
        # Windows' os.kill would terminate the process: there, only age decides.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


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
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`)."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` atomically (see :func:`atomic_path`)."""
    write_bytes(target, text.encode("utf-8"))
