"""Folder walks, file stats and content fingerprints: what changed since the last run.

An unchanged file (same size and modification time as catalogued) costs one ``stat``.
A new or changed file is fingerprinted: its size plus a hash of its first and last
blocks, which tells a moved or copied file (same fingerprint, new path) from a new one
without reading whole videos.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: File name suffixes treated as videos (lower case).
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts",
        ".m2ts", ".wmv", ".flv", ".3gp", ".ogv", ".mxf",
    }
)  # fmt: skip
#: Bytes hashed at each end of a file for its fingerprint.
BLOCK = 1 << 16


@dataclass(frozen=True)
class FileStat:
    """A video file found in a library folder.

    Attributes
    ----------
    path : str
        Absolute path.
    folder : str
        The library folder it was found under.
    size : int
    mtime_ns : int
    """

    path: str
    folder: str
    size: int
    mtime_ns: int


def walk(folder: str) -> Iterator[FileStat]:
    """Video files under ``folder`` (recursively), skipping hidden files and folders.

    Parameters
    ----------
    folder : str
        Absolute folder path. A missing folder yields nothing (its videos count as
        deleted), so a disconnected drive is the caller's decision to report.

    Yields
    ------
    FileStat
    """
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                if e.name.startswith("."):
                    continue
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        continue
                    if os.path.splitext(e.name)[1].lower() not in VIDEO_SUFFIXES:
                        continue
                    st = e.stat()
                except OSError:
                    continue
                yield FileStat(e.path, folder, st.st_size, st.st_mtime_ns)


def fingerprint(path: str | os.PathLike[str], size: int | None = None) -> str:
    """Content fingerprint: size plus a hash of the first and last :data:`BLOCK` bytes.

    Parameters
    ----------
    path : path-like
    size : int, optional
        The file's size if already known (saves a stat).

    Returns
    -------
    str
        ``"<size>-<32 hex digits>"``.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    with open(path, "rb") as fh:
        if size is None:
            size = os.fstat(fh.fileno()).st_size
        h = hashlib.blake2b(digest_size=16)
        h.update(fh.read(BLOCK))
        if size > BLOCK:
            fh.seek(max(BLOCK, size - BLOCK))
            h.update(fh.read(BLOCK))
    return f"{size}-{h.hexdigest()}"


def normalize_folder(folder: str | os.PathLike[str]) -> str:
    """Absolute, symlink-resolved form of a folder path (how the catalog stores it)."""
    return str(Path(folder).expanduser().resolve())
