"""A library: video folders plus an index folder (catalog, feature store, search index).

Index folder layout (see docs/library.md)::

    catalog.sqlite   SQLite (WAL) catalog: folders, one row per video, encoder identity
    features/        per-clip float16 arrays and timestamps (memory-mapped when read),
                     and pose tracks (landmarks) when the encoder is a pose encoder
    clips.faiss      saved HNSW graph (only for libraries past the exact-search limit)
    clips.scale/     compressed IVF-PQ index and exact vectors (past 250,000 clips;
                     built in the background, swapped in by current.json)
    .lock            held while an index run writes (a second run is refused)

A library opened ``readonly`` (what ``avr query`` and ``avr status`` do) creates and
changes nothing: a folder that is not a library is an error, not a new library, and a
library on a read-only mount can be queried.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from avr_gui.core.errors import InputError
from avr_gui.core.features.encoders import (
    BACKENDS,
    Encoder,
    default_backend,
    get_encoder,
)
from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.normalize import HAS_POSE_COLUMN
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.entries import DEFAULT_FPS, LibraryStatus, VideoEntry
from avr_gui.core.library.errors import (
    EncoderMismatchError,
    LibraryError,
    NotIndexedError,
)
from avr_gui.core.library.filelock import exclusive_lock
from avr_gui.core.library.index_rows import has_person_of
from avr_gui.core.library.indexer import (
    POSE_ENCODER_NAMES,
    IndexSummary,
    is_pose_encoder,
    run_index,
)
from avr_gui.core.library.pose_search import PoseDescriptor, PoseIndex
from avr_gui.core.library.projection import update_projection
from avr_gui.core.library.queries import LibraryQueries
from avr_gui.core.library.scan import normalize_folder
from avr_gui.core.library.search import SearchIndex, remove_saved
from avr_gui.core.library.store import FeatureStore, array_key


class Library(LibraryQueries):
    """Open a library with :meth:`open`; close it (or use it as a context manager)."""

    def __init__(
        self, root: Path, catalog: Catalog, encoder: Encoder | None, readonly: bool = False
    ) -> None:
        self.root = root
        self.readonly = readonly
        self._catalog = catalog
        self._store = FeatureStore(root / "features", create=not readonly)
        self._encoder = encoder
        self._search: SearchIndex | None = None
        self._pose_index: PoseIndex | None = None
        self._pose_cache: dict[str, PoseDescriptor] = {}
        self._learned = None
        self._lock = threading.RLock()
        self._projection = None

    # -- life cycle -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        index_dir: str | os.PathLike[str],
        *,
        encoder: Encoder | None = None,
        reindex: bool = False,
        readonly: bool = False,
    ) -> Library:
        """Open (or create) the library whose index lives in ``index_dir``.

        Parameters
        ----------
        index_dir : path-like
            Created if missing (unless ``readonly``).
        encoder : Encoder, optional
            The encoder for videos. None: the one the index was built with (loaded
            only when a video must be encoded), or the default backend for a new index.
        reindex : bool
            Accept an ``encoder`` other than the index's: every video goes back to
            ``pending`` (re-encoded by the next :meth:`index`) and added arrays are
            dropped.
        readonly : bool
            Read only: nothing is created or written (no folder, catalog change, saved
            search graph or encoder identity); :meth:`index` and other writers raise.

        Raises
        ------
        EncoderMismatchError
            ``encoder`` differs from the index's and ``reindex`` is False.
        LibraryCorruptError
            ``index_dir`` holds something that is not a catalog.
        LibraryError
            ``readonly`` and ``index_dir`` is not a library.
        """
        root = Path(index_dir).expanduser()
        if readonly:
            return cls._open_readonly(root, encoder)
        if root.exists() and not root.is_dir():
            raise LibraryError(f"{root}: exists and is not a folder; choose an index folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"{root}: cannot create the index folder ({exc.strerror})") from exc
        if not os.access(root, os.W_OK):
            raise LibraryError(f"{root}: the index folder is not writable")
        catalog = Catalog(root / "catalog.sqlite")
        lib = cls(root, catalog, encoder)
        try:
            if encoder is not None:
                lib._adopt_identity(encoder.name, encoder.version, reindex)
        except BaseException:
            catalog.close()
            raise
        return lib

    @classmethod
    def _open_readonly(cls, root: Path, encoder: Encoder | None) -> Library:
        if not (root / "catalog.sqlite").is_file():
            what = "no such folder" if not root.exists() else "no catalog.sqlite in it"
            raise LibraryError(
                f"{root}: not a library ({what}); create one with `avr index FOLDER... "
                f"--index {root}`"
            )
        catalog = Catalog(root / "catalog.sqlite", readonly=True)
        lib = cls(root, catalog, encoder, readonly=True)
        try:
            if encoder is not None:
                lib._adopt_identity(encoder.name, encoder.version, reindex=False)
        except BaseException:
            catalog.close()
            raise
        return lib

    def _writable(self, what: str) -> None:
        if self.readonly:
            raise LibraryError(f"{self.root}: opened read-only; cannot {what}")

    def close(self) -> None:
        """Close the catalog."""
        self._catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- encoder identity -------------------------------------------------------------

    @property
    def encoder_name(self) -> str | None:
        """Name of the encoder the index holds features of (None while empty)."""
        return self._catalog.get_meta("encoder")

    @property
    def encoder_version(self) -> str | None:
        """Version of that encoder."""
        return self._catalog.get_meta("encoder_version")

    def _adopt_identity(self, name: str, version: str, reindex: bool) -> None:
        cur = self.encoder_version
        if cur == version or (self.readonly and cur is None):
            return  # read-only and empty: any encoder may query it, nothing to record
        if cur is not None and not reindex:
            raise EncoderMismatchError(
                f"this library holds features of {self.encoder_name} ({cur}); mixing in "
                f"{name} ({version}) would make them incomparable. Re-index explicitly "
                "(`avr index --reindex ...`) or use the library's encoder"
            )
        with self._catalog.transaction() as tx:
            if cur is not None:
                tx.execute("DELETE FROM videos WHERE source = 'array'")
                tx.execute(
                    "UPDATE videos SET status = 'pending', reason = NULL, feature_key = NULL, "
                    "n_features = 0, encoder = NULL, encoder_version = NULL, descriptor = NULL, "
                    "has_person = NULL WHERE source = 'file'"
                )
                self._catalog.bump_generation(tx)
            self._catalog.set_meta("encoder", name, tx)
            self._catalog.set_meta("encoder_version", version, tx)
        remove_saved(self.root)
        self._search = None

    def _get_encoder(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                name = self.encoder_name or default_backend()
                if name not in BACKENDS:
                    raise LibraryError(
                        f"this library holds {name} features, which come from arrays, not "
                        "videos: query it with a feature sequence"
                    )
                enc = get_encoder(name)
                self._adopt_identity(enc.name, enc.version, reindex=False)
                self._encoder = enc
            return self._encoder

    @property
    def is_pose(self) -> bool:
        """Whether the library's encoder finds landmarks (it stores pose tracks)."""
        if self._encoder is not None:
            return is_pose_encoder(self._encoder)
        return self.encoder_name in POSE_ENCODER_NAMES

    # -- folders and indexing ---------------------------------------------------------

    @property
    def folders(self) -> list[Path]:
        """Library folders."""
        return [Path(p) for p in self._catalog.folders()]

    def add_folder(self, folder: str | os.PathLike[str]) -> None:
        """Add a folder of videos (indexed by the next :meth:`index`)."""
        self._writable("add a folder")
        p = normalize_folder(folder)
        if not os.path.isdir(p):
            raise InputError(f"{folder}: not a folder")
        self._catalog.add_folder(p)

    def remove_folder(self, folder: str | os.PathLike[str]) -> None:
        """Remove a folder; its videos leave the catalog at the next :meth:`index`."""
        self._writable("remove a folder")
        self._catalog.remove_folder(normalize_folder(folder))

    def _writer_lock(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(
            self.root / ".lock",
            f"{self.root}: another process is indexing this library; wait for it",
        )

    def index(
        self, *, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> IndexSummary:
        """Bring the catalog up to date with the folders (see :mod:`.indexer`).

        Parameters
        ----------
        progress : callable
            ``progress(done, total, message)``; the message names the current file.
        cancel : CancelToken, optional

        Returns
        -------
        IndexSummary
        """
        self._writable("index")
        with self._writer_lock():
            summary = run_index(
                self._catalog,
                self._store,
                self._catalog.folders(),
                self._get_encoder,
                fps=DEFAULT_FPS,
                pose=self.is_pose,
                progress=progress,
                cancel=cancel,
            )
        self._search = None
        return summary

    def add_features(
        self,
        items: Iterable[tuple[str, FeatureSequence]],
        *,
        tracks: Mapping[str, PoseTrack] | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> int:
        """Add feature sequences from another source (e.g. pose) as library clips.

        Parameters
        ----------
        items : iterable of (name, FeatureSequence)
            ``name`` is the clip's path in the catalog (any unique label). Every
            sequence must carry the same ``encoder`` / ``encoder_version`` as the
            library (an empty library adopts the first one's).
        tracks : mapping of str to PoseTrack, optional
            Pose libraries: the landmarks of clips by name (same frames as their
            features), stored beside them as indexing does; such a clip's
            ``has_person`` follows from its landmarks (e.g. pose data from elsewhere,
            such as annotated joints, made into a library).
        progress, cancel
            See :mod:`avr_gui.core.jobs`.

        Returns
        -------
        int
            Clips added or replaced.
        """
        self._writable("add features")
        items = list(items)
        rows = []
        for k, (name, seq) in enumerate(items):
            check(cancel)
            if not seq.encoder or not seq.encoder_version:
                raise InputError(f"{name}: say which encoder made the features (encoder, version)")
            self._adopt_identity(seq.encoder, seq.encoder_version, reindex=False)
            key = array_key(seq)
            track = tracks.get(name) if tracks else None
            if track is not None and not self.is_pose:
                raise InputError(f"{name}: a pose track was given, but this library has no pose")
            if track is not None:
                # The track's key covers the landmarks too: equal features with other
                # landmarks must not share one stored track.
                key = array_key(
                    replace(
                        seq,
                        features=np.concatenate(
                            [seq.features, track.landmarks.reshape(len(seq.features), -1)], axis=1
                        ).astype(np.float32),
                    )
                )
            if not self._store.has(key) or (track is not None and not self._store.has_track(key)):
                self._store.write(key, seq, track)
            t = seq.timestamps
            duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
            has_person = None
            if track is not None:
                has_person = has_person_of(track, seq.encoder)
            elif self.is_pose and seq.features.shape[1] > HAS_POSE_COLUMN:
                # Pose features carry a has-pose flag per frame (no landmarks here).
                has_person = bool((seq.features[:, HAS_POSE_COLUMN] > 0).any())
            rows.append(
                Row(
                    path=name,
                    folder="",
                    source="array",
                    size=None,
                    mtime_ns=None,
                    fingerprint=key,
                    status="indexed",
                    feature_key=key,
                    n_features=int(seq.features.shape[0]),
                    duration=duration,
                    fps=float((len(t) - 1) / duration) if duration > 0 else 0.0,
                    width=0,
                    height=0,
                    encoder=seq.encoder,
                    encoder_version=seq.encoder_version,
                    descriptor=clip_descriptor(seq.features).tobytes(),
                    has_person=has_person,
                )
            )
            progress(k + 1, len(items), name)
        with self._catalog.transaction() as tx:
            self._catalog.put(rows, tx)
            self._catalog.bump_generation(tx)
        self._search = None
        update_projection(self._catalog, self._store, cancel=cancel)
        return len(rows)

    # -- reading ----------------------------------------------------------------------

    def status(self) -> LibraryStatus:
        """Counts and failures."""
        counts = self._catalog.counts()
        failures = [
            (r.path, r.reason or "unknown") for r in self._catalog.rows("status = 'failed'")
        ]
        damaged = [
            (r.path, float(r.damaged_at or 0.0), float(r.duration or 0.0))
            for r in self._catalog.rows("status = 'indexed'")
            if r.damaged_at is not None
        ]
        return LibraryStatus(
            videos=sum(counts.values()),
            indexed=counts["indexed"],
            failed=counts["failed"],
            pending=counts["pending"],
            failures=failures,
            damaged=damaged,
        )

    def entries(self) -> list[VideoEntry]:
        """Every video of the catalog, sorted by path."""
        pose = self.is_pose
        return [
            VideoEntry(
                r.path,
                r.status,
                r.reason,
                float(r.duration or 0.0),
                float(r.fps or 0.0),
                int(r.width or 0),
                int(r.height or 0),
                int(r.n_features),
                r.has_person if pose and r.status == "indexed" else None,
                r.damaged_at,
            )
            for r in self._catalog.rows()
        ]

    def _indexed_row(self, path: str | os.PathLike[str]) -> Row | None:
        p = os.fspath(path)
        row = self._catalog.get(p)
        if row is None and os.path.exists(p):
            row = self._catalog.get(str(Path(p).resolve()))
        return row if row is not None and row.status == "indexed" else None

    def features(self, path: str | os.PathLike[str]) -> FeatureSequence:
        """Stored features of an indexed clip (float16 memory map ``[T, d]`` + timestamps).

        Raises
        ------
        NotIndexedError
            ``path`` is not an indexed clip of this library.
        """
        row = self._indexed_row(path)
        if row is None or row.feature_key is None:
            raise NotIndexedError(f"{path}: not an indexed video of this library")
        return self._read(row)

    def pose_track(self, path: str | os.PathLike[str]) -> PoseTrack | None:
        """Stored landmarks of an indexed clip, for skeleton overlays.

        Parameters
        ----------
        path : path-like
            A clip of the library.

        Returns
        -------
        PoseTrack or None
            ``landmarks [T, 33, 3]`` (x, y in the source's display pixels, visibility),
            ``has_pose [T]`` and ``timestamps [T]`` of the stored feature frames. None
            when there is no stored track: the library's encoder has no pose, the path
            is not an indexed clip, or it was indexed before tracks were stored (the
            next :meth:`index` adds it).

        Raises
        ------
        LibraryCorruptError
            The track file exists but cannot be read.
        """
        row = self._indexed_row(path)
        if row is None or row.feature_key is None or not self.is_pose:
            return None
        return self._read_track(row)

    def _read_track(self, row: Row, source: str | None = None) -> PoseTrack | None:
        key = row.feature_key
        if key is None or not self._store.has_track(key):
            return None
        return self._store.read_track(key, source or row.path)

    def _read(self, row: Row) -> FeatureSequence:
        return self._store.read(
            row.feature_key or "", row.path, row.encoder or "", row.encoder_version or ""
        )
