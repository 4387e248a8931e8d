"""A compressed search index on disk: one immutable folder per build, and a pointer.

Layout under the library's index folder::

    clips.scale/
      current.json          {"format", "version", "generation", "size", "dim"}
      g<generation>-<tag>/  one build, never changed once published:
        index.faiss         IVF-PQ (:class:`~avr_gui.core.scale.compressed.CompressedIndex`)
        vectors.f32.npy     standardised unit clip vectors [N, D], memory-mapped
        standardizer.npz    mean, scale [D] (float32)
        log_mass.f64.npy    bank masses [N] (absent for tiny libraries)
        paths.utf8          the clips' paths, concatenated, sorted like the vectors
        offsets.i64.npy     [N + 1] byte offsets of each path in paths.utf8

A build fills a hidden folder (``.build-...``), renames it into place (one atomic
rename) and then replaces ``current.json`` atomically; a crash before the pointer moves
leaves the previous build in use and a hidden folder the next build deletes. Readers
open whatever ``current.json`` names; old folders are deleted after the pointer moved
(a process still reading one keeps its open maps on POSIX systems).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import faiss
import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.features.compact import ClipStandardizer
from avr_gui.core.library.descriptor import Standardizer
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.scale.compressed import ADD_CHUNK, CompressedIndex

SCALE_DIR = "clips.scale"
POINTER = "current.json"
FORMAT = 1
_BUILD_PREFIX = ".build-"


class PathList(Sequence[str]):
    """The indexed clips' paths, decoded one at a time from a memory-mapped file.

    A million paths as Python strings cost ~100 MB; a query needs a few hundred.

    Parameters
    ----------
    blob : bytes-like
        UTF-8 paths, concatenated.
    offsets : numpy.ndarray, shape (N + 1,), int64
        Path ``i`` is ``blob[offsets[i]:offsets[i + 1]]``; paths are sorted.
    """

    def __init__(self, blob: bytes | mmap.mmap, offsets: np.ndarray) -> None:
        self._blob = blob
        self._off = offsets

    def __len__(self) -> int:
        return len(self._off) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(i)
        return bytes(self._blob[int(self._off[j]) : int(self._off[j + 1])]).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        for j in range(len(self)):
            yield self[j]

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        """Position of ``value`` (binary search: the paths are sorted)."""
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not in the list")
        lo, hi = max(start, 0), len(self) if stop is None else min(stop, len(self))
        while lo < hi:
            mid = (lo + hi) // 2
            if self[mid] < value:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self) and self[lo] == value:
            return lo
        raise ValueError(f"{value!r} is not in the list")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True


class SavedStandardizer(Standardizer):
    """A :class:`~avr_gui.core.library.descriptor.Standardizer` read back from disk.

    Parameters
    ----------
    mean, scale : numpy.ndarray, shape (D,), float32
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self._fit = ClipStandardizer(np.asarray(mean, np.float32), np.asarray(scale, np.float32))


@dataclass
class Bundle:
    """One published build.

    Attributes
    ----------
    generation : int
        Catalog generation the build was read from.
    folder : pathlib.Path
    index : CompressedIndex
    standardizer : SavedStandardizer
    log_mass : numpy.ndarray, shape (N,), float64, optional
    paths : PathList
    """

    generation: int
    folder: Path
    index: CompressedIndex
    standardizer: SavedStandardizer
    log_mass: np.ndarray | None
    paths: PathList

    @property
    def size(self) -> int:
        """Clips indexed."""
        return len(self.paths)


def read_pointer(scale_dir: Path) -> dict | None:
    """The parsed ``current.json``, or None when absent or unreadable."""
    try:
        data = json.loads((scale_dir / POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("version"), str)
        and all(isinstance(data.get(k), int) for k in ("generation", "size", "dim"))
    )
    # The version names a folder beside the pointer, nothing else.
    name = data.get("version") if ok else None
    if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
        return None
    return data


def load(scale_dir: Path) -> Bundle | None:
    """The build ``current.json`` names, or None (nothing published, or damaged).

    Parameters
    ----------
    scale_dir : pathlib.Path
        ``<index folder>/clips.scale``.

    Returns
    -------
    Bundle or None
        None also when a file is missing or disagrees with the pointer: the caller
        rebuilds.
    """
    ptr = read_pointer(scale_dir)
    if ptr is None:
        return None
    folder = scale_dir / ptr["version"]
    try:
        index = CompressedIndex.load(folder / "index.faiss", folder / "vectors.f32.npy")
        with np.load(folder / "standardizer.npz", allow_pickle=False) as z:
            std = SavedStandardizer(z["mean"], z["scale"])
        mass_file = folder / "log_mass.f64.npy"
        log_mass = np.load(mass_file, allow_pickle=False) if mass_file.is_file() else None
        offsets = np.load(folder / "offsets.i64.npy", allow_pickle=False)
        with open(folder / "paths.utf8", "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            blob: bytes | mmap.mmap = (
                mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
    except (OSError, ValueError, KeyError, LibraryCorruptError):
        return None
    n = ptr["size"]
    consistent = (
        index.size == n
        and index.dim == ptr["dim"]
        and offsets.shape == (n + 1,)
        and offsets.dtype == np.int64
        and int(offsets[0]) == 0
        and int(offsets[-1]) == len(blob)
        and bool(np.all(np.diff(offsets) >= 0))
        and (log_mass is None or log_mass.shape == (n,))
    )
    if not consistent:
        return None
    return Bundle(ptr["generation"], folder, index, std, log_mass, PathList(blob, offsets))


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; not possible (nor needed) on Windows.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def publish(
    scale_dir: Path,
    generation: int,
    size: int,
    dim: int,
    chunks: Iterable[tuple[list[str], np.ndarray]],
    log_mass: Callable[[np.ndarray], np.ndarray | None],
) -> Path:
    """Build from streamed descriptors and publish atomically; the caller holds the lock.

    Parameters
    ----------
    scale_dir : pathlib.Path
    generation : int
    size, dim : int
        Rows ``N`` the chunks hold in all, and the descriptor length ``D``.
    chunks : iterable of (paths, descriptors)
        Raw clip descriptors ``[n, D]`` in path order, ``sum(n) == N`` (N >= 2).
    log_mass : callable
        Standardised vectors ``[N, D]`` (a memory map) -> bank masses ``[N]`` or None.

    Returns
    -------
    pathlib.Path
        The published build's folder.

    Raises
    ------
    LibraryCorruptError
        The chunks held another number of rows than ``size``.
    """
    scale_dir.mkdir(exist_ok=True)
    tag = secrets.token_hex(4)
    tmp = scale_dir / f"{_BUILD_PREFIX}g{generation}-{os.getpid()}-{tag}"
    tmp.mkdir()
    try:
        vec_file = tmp / "vectors.f32.npy"
        vec = np.lib.format.open_memmap(vec_file, mode="w+", dtype=np.float32, shape=(size, dim))
        offsets = np.zeros(size + 1, np.int64)
        row = 0
        with open(tmp / "paths.utf8", "wb") as fh:
            for paths, desc in chunks:
                if row + len(paths) > size:
                    raise LibraryCorruptError("the catalog changed its row count while read")
                vec[row : row + len(paths)] = desc
                encoded = [p.encode("utf-8") for p in paths]
                lengths = np.fromiter((len(e) for e in encoded), np.int64, len(encoded))
                offsets[row + 1 : row + 1 + len(paths)] = offsets[row] + np.cumsum(lengths)
                fh.write(b"".join(encoded))
                row += len(paths)
        if row != size:
            raise LibraryCorruptError(f"the catalog held {row} indexed rows, expected {size}")
        mean, scale = _standardize_in_place(vec)
        mass = log_mass(vec)
        vec.flush()
        index = CompressedIndex.build(vec)
        faiss.write_index(index.index, os.fspath(tmp / "index.faiss"))
        np.savez(tmp / "standardizer.npz", mean=mean, scale=scale)
        np.save(tmp / "offsets.i64.npy", offsets, allow_pickle=False)
        if mass is not None:
            np.save(tmp / "log_mass.f64.npy", np.asarray(mass, np.float64), allow_pickle=False)
        del index, vec
        for p in tmp.iterdir():
            _fsync_file(p)
        final = scale_dir / f"g{generation}-{tag}"
        os.replace(tmp, final)
        _fsync_dir(scale_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer = {"format": FORMAT, "version": final.name, "generation": generation}
    pointer.update(size=size, dim=dim)
    write_text(scale_dir / POINTER, json.dumps(pointer) + "\n")
    remove_unused(scale_dir)
    return final


def _standardize_in_place(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit :class:`ClipStandardizer` on ``vec`` in chunks and apply it in place.

    Two passes over the rows (mean, then spread about it, both in float64) give what
    ``ClipStandardizer.fit`` gives on the whole array, up to summation order, without
    holding a float64 copy of a million rows.

    Returns
    -------
    mean, scale : numpy.ndarray, shape (D,), float32
    """
    n = vec.shape[0]
    total = np.zeros(vec.shape[1], np.float64)
    for a in range(0, n, ADD_CHUNK):
        total += vec[a : a + ADD_CHUNK].sum(axis=0, dtype=np.float64)
    mean64 = total / n
    sq = np.zeros(vec.shape[1], np.float64)
    for a in range(0, n, ADD_CHUNK):
        sq += ((vec[a : a + ADD_CHUNK].astype(np.float64) - mean64) ** 2).sum(axis=0)
    std = np.sqrt(sq / n)
    fit = ClipStandardizer(
        mean64.astype(np.float32),
        np.where(std > 1e-8, 1.0 / np.maximum(std, 1e-8), 0.0).astype(np.float32),
    )
    for a in range(0, n, ADD_CHUNK):
        vec[a : a + ADD_CHUNK] = fit.transform(np.asarray(vec[a : a + ADD_CHUNK]))
    return fit.mean, fit.scale


def remove_unused(scale_dir: Path) -> int:
    """Delete builds the pointer does not name, and hidden folders of unfinished builds.

    Call with the build lock held (a hidden folder may belong to a running build).

    Returns
    -------
    int
        Folders removed.
    """
    ptr = read_pointer(scale_dir)
    keep = ptr["version"] if ptr else None
    removed = 0
    if not scale_dir.is_dir():
        return 0
    for p in scale_dir.iterdir():
        if p.is_dir() and p.name != keep:
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    return removed


def remove_all(scale_dir: Path) -> None:
    """Delete every build and the pointer (after a re-index with another encoder)."""
    with contextlib.suppress(FileNotFoundError):
        (scale_dir / POINTER).unlink()
    if scale_dir.is_dir():
        shutil.rmtree(scale_dir, ignore_errors=True)
