"""A library: video folders plus an index folder (catalog, feature store, search index).

Index folder layout (see docs/library.md)::

    catalog.sqlite   SQLite (WAL) catalog: folders, one row per video, encoder identity
    features/        per-clip float16 arrays and timestamps (memory-mapped when read),
                     and pose tracks (landmarks) when the encoder is a pose encoder
    clips.faiss      saved HNSW graph (only for libraries past the exact-search limit)
    .lock            held while an index run writes (a second run is refused)

A library opened ``readonly`` (what ``avr query`` and ``avr status`` do) creates and
changes nothing: a folder that is not a library is an error, not a new library, and a
library on a read-only mount can be queried.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from avr_gui.core.align import AlignmentOptions
from avr_gui.core.align.verdict import alignable_probability
from avr_gui.core.errors import InputError
from avr_gui.core.features.encoders import (
    APPEARANCE_BACKEND,
    BACKENDS,
    Encoder,
    default_backend,
    get_encoder,
)
from avr_gui.core.features.layout import alignment_columns
from avr_gui.core.features.pose.encoder import PoseTrack, encode_pose_video
from avr_gui.core.features.pose.normalize import HAS_POSE_COLUMN
from avr_gui.core.features.sequence import FeatureSequence, encode_video
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.errors import (
    EmptyLibraryError,
    EncoderMismatchError,
    LibraryBusyError,
    LibraryError,
    NotIndexedError,
)
from avr_gui.core.library.indexer import (
    POSE_ENCODER_NAMES,
    IndexSummary,
    is_pose_encoder,
    run_index,
)
from avr_gui.core.library.pose_search import PoseDescriptor, PoseIndex, describe_track
from avr_gui.core.library.query import (
    QueryResult,
    Scorer,
    rerank,
    retrieval_features,
    similarity_score,
    trim_sequence,
)
from avr_gui.core.library.scan import fingerprint, normalize_folder
from avr_gui.core.library.search import SearchIndex, remove_saved
from avr_gui.core.library.store import FeatureStore, array_key

try:
    import fcntl
except ImportError:  # Windows: runs are not guarded against each other there
    fcntl = None  # type: ignore[assignment]

#: Frame sampling rate of library features.
DEFAULT_FPS = 10.0


@dataclass(frozen=True)
class LibraryStatus:
    """Counts of the catalog and its failures.

    Attributes
    ----------
    videos, indexed, failed, pending : int
    failures : list of (path, reason)
    damaged : list of (path, readable seconds, nominal seconds)
        Indexed videos that decode only part of their length (used up to the damage).
    """

    videos: int
    indexed: int
    failed: int
    pending: int
    failures: list[tuple[str, str]]
    damaged: list[tuple[str, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class VideoEntry:
    """One video of the library as the GUI lists it.

    Attributes
    ----------
    path : str
    status : {"indexed", "failed", "pending"}
    reason : str or None
        Why it failed (or a decode warning of an indexed, partly damaged file).
    duration, fps : float
    width, height : int
    n_features : int
        Feature frames stored.
    has_person : bool or None
        Pose libraries: True when some frame shows a tracked person (a usable pose),
        False when none does. None when the library's encoder has no pose, and for
        clips not indexed (yet) or indexed before tracks were stored.
    damaged_at : float or None
        A damaged (e.g. truncated) video: the seconds it can be read to, where its
        features, playback and export stop. None when intact.
    """

    path: str
    status: str
    reason: str | None
    duration: float
    fps: float
    width: int
    height: int
    n_features: int
    has_person: bool | None = None
    damaged_at: float | None = None


class Library:
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
        self._lock = threading.RLock()

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

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        fh = open(self.root / ".lock", "a+b")
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise LibraryBusyError(
                    f"{self.root}: another process is indexing this library; wait for it"
                ) from exc
            yield
        finally:
            fh.close()  # also releases the lock; a killed process releases it too

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
            if not self._store.has(key):
                self._store.write(key, seq)
            t = seq.timestamps
            duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
            has_person = None
            if self.is_pose and seq.features.shape[1] > HAS_POSE_COLUMN:
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

    def search_index(self) -> SearchIndex:
        """The retrieval index of the current catalog (rebuilt when it changed)."""
        with self._lock:
            if self._search is None or self._search.generation != self._catalog.generation:
                self._search = SearchIndex.build(self._catalog, self.root, save=not self.readonly)
            return self._search

    def search(
        self, query: FeatureSequence, k: int = 50, *, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """Clip retrieval only: the ``k`` clips most similar to ``query``, best first.

        Returns
        -------
        list of (path, cosine similarity)
        """
        feats = retrieval_features(query.features, self.encoder_name)
        return self.search_index().search(clip_descriptor(feats), k, exclude)

    def performer_index(self) -> PoseIndex:
        """Pose descriptors of the performer clips (``auto`` libraries), kept per generation."""
        with self._lock:
            gen = self._catalog.generation
            if self._pose_index is None or self._pose_index.generation != gen:
                rows = {
                    r.path: r for r in self._catalog.rows("status = 'indexed' AND has_person = 1")
                }
                self._pose_index = PoseIndex.build(
                    gen, sorted(rows), lambda p: self._describe(rows[p])
                )
            return self._pose_index

    def _describe(self, row: Row) -> PoseDescriptor | None:
        """A clip's pose descriptor, from memory when its content was described before.

        Keyed by the feature key (content and encoder), so a catalog change (a new clip,
        a rename) describes only what is new instead of reading every track again.
        """
        key = row.feature_key or ""
        if key not in self._pose_cache:
            track = self._read_track(row)
            if track is None:
                return None
            self._pose_cache[key] = describe_track(track)
        return self._pose_cache[key]

    def _query_features(
        self,
        query: str | os.PathLike[str] | FeatureSequence,
        progress: ProgressCallback,
        cancel: CancelToken | None,
    ) -> tuple[FeatureSequence, str | None, PoseTrack | None]:
        if isinstance(query, FeatureSequence):
            return query, None, None
        row = self._indexed_row(query)
        pose = self.is_pose
        if row is None and os.path.isfile(query):
            # A copy of an indexed video: use its stored features, don't decode.
            fp = fingerprint(query)
            enc_version = self.encoder_version
            same = self._catalog.rows(
                "fingerprint = ? AND status = 'indexed' AND encoder_version = ?",
                (fp, enc_version),
                limit=1,
            )
            if same and (not pose or self._store.has_track(same[0].feature_key or "")):
                seq = self._read(same[0])
                track = self._read_track(same[0], os.fspath(query)) if pose else None
                return replace(seq, source=os.fspath(query)), str(Path(query).resolve()), track
        if row is not None:
            return self._read(row), row.path, self._read_track(row) if pose else None
        enc = self._get_encoder()
        if is_pose_encoder(enc):
            # One decoding pass gives the features and the query's landmarks.
            seq, track = encode_pose_video(
                query,
                enc,  # type: ignore[arg-type]
                fps=DEFAULT_FPS,
                progress=progress,
                cancel=cancel,
            )
            return seq, str(Path(query).resolve()), track
        seq = encode_video(query, enc, fps=DEFAULT_FPS, progress=progress, cancel=cancel)
        return seq, str(Path(query).resolve()), None

    def query(
        self,
        query: str | os.PathLike[str] | FeatureSequence,
        *,
        trim: tuple[float, float] | None = None,
        top: int = 10,
        candidates: int = 50,
        scorer: Scorer | None = None,
        options: AlignmentOptions | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        """The whole method: features, top-K by clip similarity, re-rank by alignment.

        Parameters
        ----------
        query : path-like or FeatureSequence
            A video (in the library: its stored features are used; elsewhere: encoded
            with the library's encoder) or features ``[n, d]``.
        trim : (float, float), optional
            In and out points in seconds.
        top : int
            Results returned.
        candidates : int
            K: clips retrieved by similarity and re-ranked.
        scorer : Scorer, optional
            Ranking score (lower = better). Default: in an ``auto`` library, a query that
            shows a performer is ranked by pose similarity among the performer clips;
            otherwise the shipped score (``resources/ranking.json``: DTW cost per step).
        options : AlignmentOptions, optional
        progress, cancel
            See :mod:`avr_gui.core.jobs`.

        Returns
        -------
        QueryResult
            The query's own file is never among the results. With a pose encoder,
            ``query_pose`` holds the query's landmarks (stored, or found while encoding
            a file from elsewhere) and each match's ``has_person`` is set.
        """
        if candidates < 1:
            raise InputError(f"candidates must be at least 1, got {candidates}")
        seq, own, query_pose = self._query_features(query, progress, cancel)
        seq = trim_sequence(seq, trim)
        check(cancel)
        auto = self.encoder_name == "auto"
        qdesc = describe_track(query_pose, trim) if auto and query_pose is not None else None
        by_pose = qdesc is not None and qdesc.performer
        if by_pose:
            assert qdesc is not None
            # A performer query meets the performer clips, ranked by how the body moves;
            # DTW aligns what is shown but does not re-order (module pose_search).
            hits = self.performer_index().search(qdesc, candidates, exclude=own)
            if scorer is None:
                scorer = similarity_score
                hits = hits[:top]
        else:
            hits = self.search(seq, candidates, exclude=own)
        if not hits and not self.search_index().paths:
            raise EmptyLibraryError("the library has no indexed videos yet: index it first")
        cands = []
        person: dict[str, bool | None] = {}
        pose = self.is_pose
        for path, sim in hits:
            row = self._catalog.get(path)
            if row is not None and row.feature_key:
                cands.append((path, sim, self._read(row)))
                person[path] = row.has_person if pose else None
        # Pose-fused features rank by pose and appearance; the alignment a user sees and
        # exports uses the appearance block, which places frames more precisely (E1).
        matches = rerank(
            seq,
            cands,
            top=top,
            scorer=scorer,
            options=options,
            align_columns=alignment_columns(self.encoder_name),
            progress=progress,
            cancel=cancel,
        )
        compared = ("pose" if by_pose else "appearance") if auto else None
        kind = compared or ("appearance" if self.encoder_name == APPEARANCE_BACKEND else None)
        matches = [
            replace(
                m,
                has_person=person[m.path],
                compared_on=compared,
                alignable=alignable_probability(
                    kind, m.similarity if kind == "pose" else m.normalized_cost
                ),
            )
            for m in matches
        ]
        return QueryResult(own, seq, matches, query_pose, query_performer=by_pose if auto else None)
