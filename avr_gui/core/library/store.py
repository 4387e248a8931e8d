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
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
from dataclasses import replace
from pathlib import Path

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


def array_key(seq: FeatureSequence) -> str:
    """Content key of a sequence added as an array: a hash of its stored bytes."""
    h = hashlib.blake2b(digest_size=16)
    h.update(to_storage(seq.features).tobytes())
    h.update(np.ascontiguousarray(seq.timestamps, np.float64).tobytes())
    return "a" + h.hexdigest()


def _map_npy(path: Path) -> np.ndarray:
    """A read-only memory map of a C-order ``.npy`` file.

    ``np.load(mmap_mode="r")`` resolves paths and builds a ``numpy.memmap`` subclass,
    which measured ~2.5 ms per file here; re-ranking maps 50 files per query.
    """
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        if fortran or dtype.hasobject:
            raise ValueError(f"{path.name}: unexpected array layout")
        offset = fh.tell()
        count = int(np.prod(shape))
        if count == 0:
            return np.zeros(shape, dtype)
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape)


class FeatureStore:
    """Folder of per-clip feature arrays.

    Parameters
    ----------
    root : path-like
        Created if missing.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _paths(self, key: str) -> tuple[Path, Path]:
        d = self.root / key[:2]
        return d / f"{key}{_FEAT}", d / f"{key}{_TIME}"

    def _track_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{_POSE}"

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
        f, t = self._paths(key)
        try:
            feats = _map_npy(f)
            times = np.load(t, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise LibraryCorruptError(
                f"stored features of {source or key} are missing or damaged ({exc}); "
                "re-index the library"
            ) from exc
        if feats.ndim != 2 or times.shape != (feats.shape[0], 2):
            raise LibraryCorruptError(
                f"stored features of {source or key} have inconsistent shapes "
                f"{feats.shape} / {times.shape}; re-index the library"
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
                "re-index the library"
            ) from exc
        return replace(track, source=source) if source else track

    def remove(self, key: str) -> None:
        """Delete the files of ``key`` (missing files are fine)."""
        for p in (*self._paths(key), self._track_path(key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def keys(self) -> set[str]:
        """Keys with a features file on disk."""
        return {
            p.name[: -len(_FEAT)]
            for d in self.root.iterdir()
            if d.is_dir()
            for p in d.iterdir()
            if p.name.endswith(_FEAT) and not p.name.startswith(".")
        }

    def collect_garbage(self, keep: set[str]) -> int:
        """Delete entries not in ``keep`` and temporary files a killed run left behind.

        Returns
        -------
        int
            Files removed.
        """
        removed = 0
        for d in self.root.iterdir():
            if not d.is_dir():
                continue
            for p in d.iterdir():
                name = p.name
                key = name.split(".", 1)[0]
                leftover = name.startswith(".")  # an atomic write that never finished
                if leftover or key not in keep:
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                        removed += 1
        return removed

    def disk_bytes(self) -> int:
        """Bytes used by the stored arrays."""
        return sum(p.stat().st_size for d in self.root.iterdir() if d.is_dir() for p in d.iterdir())
