"""Per-clip feature arrays on disk: float16 ``[T, d]`` plus timestamps, memory-mapped.

Layout under the store folder: ``<key[:2]>/<key>.f16.npy`` (features, float16) and
``<key[:2]>/<key>.time.npy`` (float64 ``[T, 2]``: source time in seconds and source
frame index). Both are plain ``.npy`` files written atomically; the times file is
written first and the features file last, so a features file on disk always has its
times beside it. A key names content (a file's fingerprint or an array's hash), so
copies of a video share one entry and a moved video keeps its entry.

Clips encoded by a pose encoder also get ``<key[:2]>/<key>.pose.npz``: their
:class:`~avr_gui.core.features.pose.PoseTrack` (landmarks of the same frames, see
:func:`~avr_gui.core.features.pose.save_pose_track`). It is written before the other
two, so a features file of a pose clip always has its track beside it, and it goes
with them (:meth:`FeatureStore.remove`, garbage collection).

Nothing read from disk or from the catalog is trusted: a key must be ``"v"`` or ``"a"``
and 32 hex digits (so a damaged catalog row cannot name a file outside the store), and
a ``.npy`` header is checked (version, dtype, C order, shape against the bytes the
file holds) before anything is mapped or allocated. Damage of either kind is a
one-line :class:`~avr_gui.core.library.errors.LibraryCorruptError`;
:meth:`FeatureStore.verify` answers the same question without raising, cheaply enough
for the indexer to ask it of every row at every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import mmap
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import ShapeError, UnsupportedFileError
from avr_gui.core.features.compact import to_storage
from avr_gui.core.features.pose.encoder import PoseTrack, load_pose_track, save_pose_track
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.library.errors import LibraryCorruptError

_FEAT = ".f16.npy"
_TIME = ".time.npy"
_POSE = ".pose.npz"
#: Compact copies (``projection.py``): ``<key>.<projection ident><_PROJ>``.
_PROJ = ".p16.npy"


def array_key(seq: FeatureSequence) -> str:
    """Content key of a sequence added as an array: a hash of its stored bytes."""
    h = hashlib.blake2b(digest_size=16)
    h.update(to_storage(seq.features).tobytes())
    h.update(np.ascontiguousarray(seq.timestamps, np.float64).tobytes())
    return "a" + h.hexdigest()


#: Store keys: "v" (a video's content under one encoder version, see
#: :func:`~avr_gui.core.library.indexer.feature_key`) or "a" (:func:`array_key`) and
#: 32 hex digits.
_KEY = re.compile(r"[va][0-9a-f]{32}")
#: Longest ``.npy`` header accepted (numpy's own default limit; ours are 128 bytes).
_MAX_HEADER = 10_000
#: Longest piece of a reason quoted in a message.
_DETAIL = 160


def check_key(key: object) -> str:
    """``key`` if it is a store key, else :class:`LibraryCorruptError`.

    Parameters
    ----------
    key : object
        Usually a catalog row's ``feature_key``.

    Returns
    -------
    str

    Raises
    ------
    LibraryCorruptError
        Not ``"v"``/``"a"`` plus 32 lower-case hex digits: a damaged catalog (the key
        would otherwise become a path, perhaps outside the store).
    """
    if isinstance(key, str) and _KEY.fullmatch(key):
        return key
    shown = repr(key)[:60]
    raise LibraryCorruptError(
        f"the catalog names a feature key {shown} that is not one ('v' or 'a' and 32 hex "
        "digits); run 'avr index' to repair it"
    )


def _short(text: object) -> str:
    """One line of at most :data:`_DETAIL` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= _DETAIL else line[: _DETAIL - 3] + "..."


# The header ``numpy.save`` writes for a plain array, parsed without numpy's general
# parser (tokenize + literal_eval: ~90 us a file, most of the cost of checking a large
# library's files at every index run). Anything else takes the general path.
_SAVED_HEADER = re.compile(
    rb"\{'descr': '([^']{1,16})', 'fortran_order': (False|True), "
    rb"'shape': \(((?:[0-9]{1,20}, ){0,31}(?:[0-9]{1,20},?)?)\), \} *\n"
)
_MAGIC = {b"\x93NUMPY\x01\x00": 2, b"\x93NUMPY\x02\x00": 4}


def _fast_header(fh: BinaryIO) -> tuple[str, bool, tuple[int, ...], int] | None:
    """``(descr, fortran, shape, data offset)`` of a header as numpy writes it, else None."""
    head = fh.read(256)
    width = _MAGIC.get(head[:8])
    if width is None:
        return None
    start = 8 + width
    end = start + int.from_bytes(head[8:start], "little")
    m = _SAVED_HEADER.fullmatch(head, start, end) if end <= len(head) else None
    if m is None:
        return None
    shape = tuple(int(x) for x in m[3].split(b",") if x.strip())
    return m[1].decode("ascii"), m[2] == b"True", shape, end


def _read_header(fh: BinaryIO, file_size: int, dtype: np.dtype) -> tuple[tuple[int, ...], int]:
    """Parse and check the header of an open ``.npy`` file.

    Parameters
    ----------
    fh : binary file at offset 0
    file_size : int
        Bytes in the file.
    dtype : numpy.dtype
        The only dtype accepted (the store writes float16 features, float64 times).

    Returns
    -------
    shape : tuple of int
    offset : int
        Where the data starts; ``offset + prod(shape) * itemsize == file_size``.

    Raises
    ------
    ValueError
        A one-line reason: bad magic or version, unreadable header, other dtype,
        object or Fortran-ordered array, or a size that disagrees with the file.
    """
    fast = _fast_header(fh)
    if fast is not None and fast[0] == dtype.str:
        _, fortran, shape, offset = fast
        found = dtype
    else:
        fh.seek(0)
        shape, fortran, found = _general_header(fh)
        offset = fh.tell()
    if found.hasobject:
        raise ValueError("an array of objects")
    if fortran:
        raise ValueError("a Fortran-ordered array")
    if found != dtype:
        raise ValueError(f"dtype {found}, expected {dtype}")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"shape {_short(shape)}")
    need = math.prod(shape) * dtype.itemsize
    if offset + need != file_size:
        # A header claiming terabytes ends here, before anything is allocated.
        raise ValueError(
            f"the header says {need} data bytes, the file holds {max(file_size - offset, 0)}"
        )
    return shape, offset


def _general_header(fh: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """numpy's own header parser, its many failure types turned into ValueError."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            return fmt.read_array_header_1_0(fh, max_header_size=_MAX_HEADER)
        if version == (2, 0):
            return fmt.read_array_header_2_0(fh, max_header_size=_MAX_HEADER)
        raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy's parser meets garbage with many types (tokenize too)
        raise ValueError(f"not a readable .npy header ({_short(exc)})") from None


def _npy_shape(path: str, dtype: np.dtype) -> tuple[int, ...]:
    """Shape of a checked ``.npy`` file (header only); OSError or ValueError."""
    with open(path, "rb", buffering=0) as fh:
        return _read_header(fh, os.fstat(fh.fileno()).st_size, dtype)[0]


def _map_npy(path: str | os.PathLike[str], dtype: np.dtype) -> np.ndarray:
    """A read-only memory map of a checked C-order ``.npy`` file of ``dtype``.

    ``np.load(mmap_mode="r")`` resolves paths and builds a ``numpy.memmap`` subclass,
    which measured ~2.5 ms per file here; re-ranking maps 50 files per query.
    Raises OSError or ValueError (see :func:`_read_header`).
    """
    with open(path, "rb") as fh:
        shape, offset = _read_header(fh, os.fstat(fh.fileno()).st_size, dtype)
        count = math.prod(shape)
        if count == 0:
            return np.zeros(shape, dtype)
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape)


def _load_npy(path: str, dtype: np.dtype) -> np.ndarray:
    """A small checked C-order ``.npy`` file of ``dtype``, read whole (read-only array).

    For the per-clip times files (16 bytes a frame): one read costs less than mapping
    and unmapping them, which re-ranking did for 50 files per query.
    Raises OSError or ValueError (see :func:`_read_header`).
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        shape, offset = _read_header(fh, size, dtype)
        fh.seek(offset)
        data = fh.read()
    if len(data) != size - offset:
        raise ValueError("the file changed while it was read")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


_F16 = np.dtype("<f2")
_F64 = np.dtype("<f8")


class FeatureStore:
    """Folder of per-clip feature arrays.

    Parameters
    ----------
    root : path-like
        Created if missing (when ``create``).
    create : bool
        False for a read-only library: nothing is created (a missing folder reads as
        an empty store).
    """

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True) -> None:
        self.root = Path(root)
        self._root = os.fspath(self.root)
        if create:
            self.root.mkdir(parents=True, exist_ok=True)

    def _paths(self, key: str) -> tuple[Path, Path]:
        """Features and times files of ``key`` (checked: never outside the store)."""
        d = self.root / check_key(key)[:2]
        return d / f"{key}{_FEAT}", d / f"{key}{_TIME}"

    def _track_path(self, key: str) -> Path:
        return self.root / check_key(key)[:2] / f"{key}{_POSE}"

    def has(self, key: str) -> bool:
        """Whether both files of ``key`` exist."""
        f, t = self._paths(key)
        return f.is_file() and t.is_file()

    def has_track(self, key: str) -> bool:
        """Whether ``key`` has a pose track file."""
        return self._track_path(key).is_file()

    def write(self, key: str, seq: FeatureSequence, track: PoseTrack | None = None) -> int:
        """Store ``seq`` (and its pose track) under ``key`` atomically.

        Parameters
        ----------
        key : str
        seq : FeatureSequence
            Features ``[T, d]`` (stored as float16), timestamps and frame indices ``[T]``.
        track : PoseTrack, optional
            Landmarks ``[T, 33, 3]`` of the same frames (pose encoders).

        Returns
        -------
        int
            Bytes written.
        """
        f, t = self._paths(key)
        f.parent.mkdir(exist_ok=True)
        if track is not None:
            if track.timestamps.shape != seq.timestamps.shape:
                raise ShapeError(
                    f"the pose track has {track.timestamps.shape[0]} frames, "
                    f"the features {seq.timestamps.shape[0]}"
                )
            save_pose_track(self._track_path(key), track)
            written = self._track_path(key).stat().st_size
        else:
            written = 0
        feats = to_storage(seq.features)
        # Compact copies of earlier features under this key are stale now.
        for old in f.parent.glob(f"{key}.*{_PROJ}"):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
        times = np.stack(
            [np.asarray(seq.timestamps, np.float64), np.asarray(seq.frame_indices, np.float64)],
            axis=1,
        )
        for target, arr in ((t, times), (f, feats)):
            with atomic_path(target, suffix=".npy") as tmp, open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
        return written + feats.nbytes + times.nbytes

    def read(
        self, key: str, source: str = "", encoder: str = "", version: str = ""
    ) -> FeatureSequence:
        """Load the sequence of ``key``; features are a read-only float16 memory map.

        Parameters
        ----------
        key : str
        source, encoder, version : str
            Copied into the returned sequence.

        Returns
        -------
        FeatureSequence
            ``features`` is a read-only memory map, float16 ``[T, d]`` (convert with
            :func:`~avr_gui.core.features.compact.from_storage` before aligning).
        """
        # Plain strings: pathlib's joins cost ~30 us a read, 50 reads a query.
        folder = os.path.join(self._root, check_key(key)[:2], key)
        what = source or key
        try:
            feats = _map_npy(folder + _FEAT, _F16)
            times = _load_npy(folder + _TIME, _F64)
        except (OSError, ValueError) as exc:
            reason = "a file is missing" if isinstance(exc, FileNotFoundError) else _short(exc)
            raise LibraryCorruptError(
                f"stored features of {what} are missing or damaged ({reason}); "
                "run 'avr index' to repair them"
            ) from None
        if feats.ndim != 2 or times.shape != (feats.shape[0], 2):
            raise LibraryCorruptError(
                f"stored features of {what} have inconsistent shapes "
                f"{feats.shape} / {times.shape}; run 'avr index' to repair them"
            )
        return FeatureSequence(
            feats,
            np.ascontiguousarray(times[:, 0]),
            times[:, 1].astype(np.int64),
            source,
            encoder,
            version,
        )

    def read_track(self, key: str, source: str = "") -> PoseTrack:
        """Load the pose track of ``key``.

        Parameters
        ----------
        key : str
        source : str
            The clip's path, put into the returned track (copies share one file).

        Returns
        -------
        PoseTrack
            ``landmarks [T, 33, 3]``, ``has_pose [T]``, ``timestamps [T]``.

        Raises
        ------
        LibraryCorruptError
            The file is missing or damaged.
        """
        try:
            track = load_pose_track(self._track_path(key))
        except UnsupportedFileError as exc:
            raise LibraryCorruptError(
                f"the stored pose track of {source or key} is missing or damaged; "
                "run 'avr index' to repair it"
            ) from exc
        return replace(track, source=source) if source else track

    def verify(self, key: str, pose: bool = False) -> str | None:
        """Cheap check of the stored files of ``key``: headers and sizes, no data read.

        Parameters
        ----------
        key : str
        pose : bool
            Require the pose track file too (existence only).

        Returns
        -------
        str or None
            None when the files exist, their ``.npy`` headers parse (float16 ``[T, d]``
            features, float64 ``[T, 2]`` times, C order), each file holds exactly the
            bytes its header says and both have ``T`` frames; else a short reason.
        """
        try:
            self.shape(key)
        except LibraryCorruptError as exc:
            return str(exc)
        if pose and not self._track_path(key).is_file():
            return "the pose track is missing"
        return None

    def shape(self, key: str) -> tuple[int, int]:
        """``(T, d)`` of the stored features of ``key``, from the headers alone.

        Raises
        ------
        LibraryCorruptError
            ``key`` is not a store key, or a file is missing, damaged or disagrees with
            the other (see :meth:`verify`); the message is one short line.
        """
        # Plain strings, not Paths: this runs for every clip at every index run.
        folder = os.path.join(self._root, check_key(key)[:2], key)
        shapes = []
        for suffix, dtype in ((_FEAT, _F16), (_TIME, _F64)):
            try:
                shapes.append(_npy_shape(folder + suffix, dtype))
            except FileNotFoundError:
                raise LibraryCorruptError(f"{key}{suffix} is missing") from None
            except (OSError, ValueError) as exc:
                raise LibraryCorruptError(f"{key}{suffix}: {_short(exc)}") from None
        feats, times = shapes
        if len(feats) != 2 or times != (feats[0], 2):
            raise LibraryCorruptError(f"{key}: inconsistent shapes {feats} / {times}")
        return feats[0], feats[1]

    # -- compact copies (see avr_gui.core.library.projection) ---------------------------

    def _projected_path(self, key: str, ident: str) -> str:
        if not ident.isalnum():
            raise LibraryCorruptError(f"{ident!r} is not a projection name")
        return os.path.join(self._root, check_key(key)[:2], f"{key}.{ident}{_PROJ}")

    def projected_shape(self, key: str, ident: str) -> tuple[int, ...] | None:
        """Shape of the compact copy of ``key`` made with projection ``ident`` (headers
        only), or None when it is missing or damaged."""
        try:
            return _npy_shape(self._projected_path(key, ident), _F16)
        except (OSError, ValueError):
            return None

    def write_projected(self, key: str, ident: str, features: np.ndarray) -> None:
        """Store the compact copy ``[T, k]`` of ``key`` (float16, atomically)."""
        target = Path(self._projected_path(key, ident))
        target.parent.mkdir(exist_ok=True)
        with atomic_path(target, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, to_storage(features), allow_pickle=False)

    def read_projected(self, key: str, ident: str) -> np.ndarray:
        """The compact copy of ``key``: a read-only float16 memory map ``[T, k]``.

        Raises
        ------
        OSError or ValueError
            Missing or damaged (the caller falls back to the full features).
        """
        return _map_npy(Path(self._projected_path(key, ident)), _F16)

    def drop_projected(self, keep: str | None) -> int:
        """Delete compact copies made with any projection but ``keep``; returns the count."""

        def stale(name: str) -> bool:
            parts = name.split(".")
            return name.endswith(_PROJ) and len(parts) == 4 and parts[1] != keep

        return self._remove_files(stale)

    def _remove_files(self, doomed: Callable[[str], bool]) -> int:
        """Delete the stored files whose name ``doomed`` accepts; returns the count."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for d in self.root.iterdir():
            if not d.is_dir():
                continue
            for p in d.iterdir():
                if doomed(p.name):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                        removed += 1
        return removed

    def copy_entry(self, src: str, dst: str) -> None:
        """Make the files of ``src`` available under ``dst`` too (hard links, else copies).

        Each file is put in place atomically, the pose track first and the features
        last (the order :meth:`write` keeps), so a killed copy leaves ``dst`` without
        a features file rather than half an entry.

        Raises
        ------
        LibraryCorruptError
            A key is not a store key.
        OSError
            A file of ``src`` cannot be read or ``dst`` cannot be written.
        """
        (sf, st), (df, dt) = self._paths(src), self._paths(dst)
        df.parent.mkdir(exist_ok=True)
        for a, b in ((self._track_path(src), self._track_path(dst)), (st, dt), (sf, df)):
            if not a.is_file():
                continue
            with atomic_path(b) as tmp:
                tmp.unlink()
                try:
                    os.link(a, tmp)
                except OSError:  # a file system without hard links
                    shutil.copyfile(a, tmp)

    def remove(self, key: str) -> None:
        """Delete the files of ``key`` (missing files are fine)."""
        for p in (*self._paths(key), self._track_path(key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def keys(self) -> set[str]:
        """Keys with a features file on disk."""
        if not self.root.is_dir():
            return set()
        return {
            p.name[: -len(_FEAT)]
            for d in self.root.iterdir()
            if d.is_dir()
            for p in d.iterdir()
            if p.name.endswith(_FEAT) and not p.name.startswith(".")
        }

    def collect_garbage(self, keep: set[str], compact: str | None = None) -> int:
        """Delete entries not in ``keep`` and temporary files a killed run left behind.

        Parameters
        ----------
        keep : set of str
            Keys still named by the catalog.
        compact : str, optional
            The current projection's ident: compact copies of any other are deleted too
            (None: every compact copy).

        Returns
        -------
        int
            Files removed.
        """

        def garbage(name: str) -> bool:
            if name.startswith("."):  # an atomic write that never finished
                return True
            parts = name.split(".")
            if name.endswith(_PROJ) and len(parts) == 4 and parts[1] != compact:
                return True
            return parts[0] not in keep

        return self._remove_files(garbage)

    def disk_bytes(self) -> int:
        """Bytes used by the stored arrays."""
        return sum(p.stat().st_size for d in self.root.iterdir() if d.is_dir() for p in d.iterdir())
