"""The indexing job: incremental, resumable after a kill, per-file failures recorded.

Three phases, each change one SQLite transaction:

1. Scan. Every library folder is walked; a file whose size and modification time match
   its catalog row costs that one ``stat``. New and changed files are hashed whole
   (:func:`~avr_gui.core.library.scan.hash_file`, BLAKE3): a file touched but not
   changed keeps its row; a new path whose hash matches a vanished *indexed* row is a
   move (its features are kept; a failed row never hands its failure on); vanished
   rows are deleted, and everything else that needs work is written as ``pending`` in
   one transaction. A ``failed`` row is tried again at every run when the failure was
   an operating-system read problem (missing file, permission, I/O error: the reason
   starts with ``"read error: "``), otherwise when its size or time changes.
   Rows of older catalogs carry a partial fingerprint (size and both ends of the
   file); they are hashed once: a row whose partial fingerprint no other row shared
   keeps its features (moved to the key of its new fingerprint), one that shared it
   (its features may be another file's) is encoded again.
2. Verify. Every indexed row's stored files are checked from their headers alone
   (:meth:`~avr_gui.core.library.store.FeatureStore.verify`, once per feature key):
   a row whose files are missing or damaged goes back to ``pending``, and a row whose
   clip descriptor blob has the wrong length gets it derived again from its stored
   features; one transaction.
3. Encode. Pending rows are processed in path order: a copy of an indexed video (same
   whole-file hash, stored files intact) reuses its features; anything else is probed,
   decoded and encoded (:func:`~avr_gui.core.features.sequence.encode_video` decodes
   on a prefetch thread while the encoder runs, on the GPU when there is one), its
   arrays are written atomically, and only then is its row switched to ``indexed``. A
   video that decodes to clearly less than its nominal duration (see
   :func:`damage_note`) is indexed with the frames it has, ``damaged_at`` set to
   where it stops and a note in ``reason``. A file that cannot be read becomes
   ``failed`` with the reason; the run goes on. A file whose size or time changed
   between its hash and its decoding is not stored under the old hash: it fails as a
   read problem and the next run takes it up.

With a pose encoder (:data:`POSE_ENCODER_NAMES`) the same single decoding pass
(:func:`~avr_gui.core.features.pose.encode_pose_video`) also yields the clip's
landmarks: its :class:`~avr_gui.core.features.pose.PoseTrack` is stored beside the
features and its row records ``has_person`` (any frame with a usable pose). Clips of a
pose library without a track or with ``has_person`` unknown (indexed before tracks
were stored, or the track file was lost) are encoded again by the next run, after the
pending ones; they stay queryable meanwhile.

A killed run leaves pending rows and perhaps feature files no row names; the next run
picks the pending rows up and deletes the orphans, so it ends with exactly the catalog
an uninterrupted run would have written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from avr_gui.core.errors import AvrError, MissingFileError, UnreadableFileError
from avr_gui.core.features.compact import from_storage
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.pose.backends import POSE_BACKENDS
from avr_gui.core.features.pose.encoder import (
    FusedEncoder,
    PoseEncoder,
    PoseTrack,
    encode_pose_video,
)
from avr_gui.core.features.pose.motion import is_performer, landmark_motion_features
from avr_gui.core.features.sequence import FeatureSequence, encode_video
from avr_gui.core.jobs import Cancelled, CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.library.query import retrieval_features
from avr_gui.core.library.scan import FileStat, hash_file, is_legacy, walk
from avr_gui.core.library.store import FeatureStore
from avr_gui.core.video.damage import is_damaged
from avr_gui.core.video.probe import VideoInfo, probe

log = logging.getLogger(__name__)

# Files between progress reports while scanning (a report per file would dominate the
# cost of re-checking an unchanged library).
_SCAN_REPORT = 500

#: Registry names of the encoders whose libraries store pose tracks.
POSE_ENCODER_NAMES: frozenset[str] = frozenset(b.name for b in POSE_BACKENDS)

#: Start of the ``reason`` of a row that failed on an operating-system read problem
#: (tried again at every run).
READ_ERROR = "read error: "
# Reasons such failures had before they were marked (older catalogs): MissingFileError
# and UnreadableFileError texts, and OSError from fingerprinting.
_OLD_READ_ERRORS = (
    "no such file",
    "permission denied",
    "cannot be read",
    "FileNotFoundError",
    "PermissionError",
    "OSError",
    "TimeoutError",
)


def _has_person(track: PoseTrack, encoder_name: str) -> bool:
    """``auto``: a person performs in most frames; other pose encoders: any frame."""
    if encoder_name == "auto":
        return is_performer(landmark_motion_features(track.landmarks, track.has_pose)[1])
    return bool(track.has_pose.any())


def is_pose_encoder(encoder: Encoder) -> bool:
    """Whether ``encoder`` finds landmarks (a pose or pose+appearance encoder)."""
    return isinstance(encoder, (PoseEncoder, FusedEncoder))


@dataclass(frozen=True)
class IndexSummary:
    """What an index run did and where the library stands after it.

    Attributes
    ----------
    videos, indexed, failed, pending : int
        Catalog counts after the run (``pending`` > 0 only after a cancelled run).
    unchanged : int
        Files that cost a stat only (and a check of their stored files' headers).
    removed : int
        Rows deleted because their file is gone (or its folder left the library).
    moved : int
        Files found under a new path with known content (features kept).
    encoded : int
        Files decoded and encoded in this run.
    seconds : float
    repaired : int
        Indexed rows whose stored files were missing or damaged (queued for encoding)
        or whose clip descriptor was damaged (derived again).
    """

    videos: int
    indexed: int
    failed: int
    pending: int
    unchanged: int
    removed: int
    moved: int
    encoded: int
    seconds: float
    repaired: int = 0


def feature_key(fp: str, encoder_version: str) -> str:
    """Store key of a file's features: its fingerprint under one encoder version."""
    h = hashlib.blake2b(f"{fp}\0{encoder_version}".encode(), digest_size=16)
    return "v" + h.hexdigest()


def _reason(exc: BaseException, path: str) -> str:
    """One-line failure reason; OS-level read problems start with :data:`READ_ERROR`."""
    text = " ".join(str(exc).split()).removeprefix(f"{path}: ")
    if isinstance(exc, AvrError) and text:
        out = text
    else:
        out = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, (OSError, MissingFileError, UnreadableFileError)):
        return READ_ERROR + out
    return out


def _expected_failure(exc: BaseException) -> bool:
    """Whether a per-file failure is about the file (bad input, I/O), not about the code.

    Decoders report bad data as ``ValueError``/``OSError`` subclasses (PyAV's
    ``InvalidDataError`` is both), and our own layers raise :class:`AvrError`.
    """
    return isinstance(exc, (AvrError, OSError, ValueError, EOFError))


def is_read_failure(reason: str | None) -> bool:
    """Whether a failed row's ``reason`` is a read problem that may pass (try again)."""
    return reason is not None and (
        reason.startswith(READ_ERROR) or reason.startswith(_OLD_READ_ERRORS)
    )


def damage_note(info: VideoInfo, times: np.ndarray) -> tuple[float | None, str | None]:
    """Where a decoded video stops short of its nominal duration, if it clearly does.

    Parameters
    ----------
    info : VideoInfo
        From :func:`~avr_gui.core.video.probe.probe` (nominal ``duration_s``, ``fps``).
    times : numpy.ndarray, shape (T,)
        Source times in seconds of the decoded (sampled) frames.

    Returns
    -------
    damaged_at : float or None
        Seconds readable (last decoded time plus one source frame), or None when the
        video is not cut short by :func:`~avr_gui.core.video.damage.is_damaged`'s rule
        (the one playback and export use, so the library and the player agree), or
        the duration is unknown.
    note : str or None
        ``"damaged: readable to 4.1 s of 10.0 s"``, or None.
    """
    nominal = float(info.duration_s)
    if not (nominal > 0 and len(times)):
        return None, None
    frame = 1.0 / info.fps if info.fps > 0 else 0.0
    end = float(times[-1]) + frame
    if not is_damaged(end, nominal, float(info.fps)):
        return None, None
    end = round(end, 3)
    return end, f"damaged: readable to {end:.1f} s of {nominal:.1f} s"


def _pending(st: FileStat, fp: str, size: int, mtime_ns: int) -> Row:
    """A row to encode: identity fields only, so every path to it gives the same row."""
    return Row(st.path, st.folder, "file", size, mtime_ns, fp, "pending")


def _requeued(row: Row) -> Row:
    """``row`` back to ``pending`` with only its file's identity (path, stat, hash)."""
    return Row(row.path, row.folder, "file", row.size, row.mtime_ns, row.fingerprint, "pending")


def _rekey(prev: Row, fp: str, store: FeatureStore) -> Row | None:
    """A legacy row kept: its features under the key of its new fingerprint, or None."""
    if not prev.feature_key or not prev.encoder_version:
        return None
    new_key = feature_key(fp, prev.encoder_version)
    try:
        store.copy_entry(prev.feature_key, new_key)
    except (OSError, LibraryCorruptError):
        return None  # encoded again instead
    return replace(prev, fingerprint=fp, feature_key=new_key)


def _scan(
    catalog: Catalog,
    store: FeatureStore,
    folders: list[str],
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> tuple[set[str], int, int]:
    """Phase 1: bring the catalog in line with the folders.

    Returns (paths of the unchanged files, rows removed, rows moved).
    """
    table = catalog.stat_table()
    # Rows looked at again although their stat matches: failures that may pass, and
    # legacy partial fingerprints (hashed whole once).
    retry = {
        r.path
        for r in catalog.rows("status = 'failed' AND source = 'file'")
        if is_read_failure(r.reason)
    }
    legacy = Counter(v[3] for v in table.values() if v[4] == "file" and is_legacy(v[3]))
    recheck = retry | {p for p, v in table.items() if v[4] == "file" and v[3] in legacy}
    seen: dict[str, FileStat] = {}
    unchanged: set[str] = set()
    todo: list[FileStat] = []
    for folder in folders:
        for st in walk(folder):
            if st.path in seen:
                continue  # a folder nested in another library folder
            seen[st.path] = st
            if len(seen) % _SCAN_REPORT == 0:
                check(cancel)
                progress(0, 0, f"checking {st.path}")
            row = table.get(st.path)
            if (
                row is not None
                and row[0] == st.size
                and row[1] == st.mtime_ns
                and st.path not in recheck
            ):
                # Same stat: nothing to do now (a pending row is encoded in phase 3).
                if row[2] != "pending":
                    unchanged.add(st.path)
            else:
                todo.append(st)
    # A library folder that is missing altogether (an unplugged drive) keeps its rows.
    absent = tuple(f.rstrip(os.sep) + os.sep for f in folders if not os.path.isdir(f))
    vanished = {
        p: v
        for p, v in table.items()
        if v[4] == "file" and p not in seen and not (absent and p.startswith(absent))
    }
    # Only indexed rows hand their row on to a moved file: a failure is the file's to
    # retry, not a verdict on its content.
    by_fp: dict[str, list[str]] = {}
    for p, v in sorted(vanished.items()):
        if v[2] == "indexed" and v[3] is not None and not is_legacy(v[3]):
            by_fp.setdefault(v[3], []).append(p)
    new_rows: list[Row] = []
    moved_from: list[str] = []
    for st in todo:
        check(cancel)
        progress(0, 0, f"hashing {st.path}")
        new, src = _scanned_row(st, table.get(st.path), legacy, by_fp, catalog, store)
        new_rows.append(new)
        if src is not None:
            moved_from.append(src)
    kept = set(moved_from)
    gone = [p for p in vanished if p not in kept]
    if new_rows or gone or moved_from:
        with catalog.transaction() as tx:
            catalog.delete(gone + moved_from, tx)
            catalog.put(new_rows, tx)
            catalog.bump_generation(tx)
    return unchanged, len(gone), len(moved_from)


def _scanned_row(
    st: FileStat,
    old: tuple | None,
    legacy: Counter[str],
    by_fp: dict[str, list[str]],
    catalog: Catalog,
    store: FeatureStore,
) -> tuple[Row, str | None]:
    """The row of a new, changed or re-checked file: (row, path of the row it moved from)."""
    try:
        fp, size, mtime_ns = hash_file(st.path)
    except OSError as exc:
        reason = _reason(exc, st.path)
        return Row(st.path, st.folder, "file", st.size, st.mtime_ns, None, "failed", reason), None
    if old is not None:
        prev_fp, status = old[3], old[2]
        same_stat = old[0] == size and old[1] == mtime_ns
        if status == "indexed" and prev_fp == fp:
            # Touched but not changed (same content): keep the row, note the new stat.
            prev = catalog.get(st.path)
            if prev is not None:
                return replace(prev, size=size, mtime_ns=mtime_ns), None
        if is_legacy(prev_fp) and same_stat:
            prev = catalog.get(st.path)
            if prev is not None and status == "indexed" and legacy[prev_fp] == 1:
                # Nobody else had this partial fingerprint: the features are its own.
                kept = _rekey(prev, fp, store)
                if kept is not None:
                    return kept, None
            elif prev is not None and status == "failed" and not is_read_failure(prev.reason):
                return replace(prev, fingerprint=fp), None
    donors = by_fp.get(fp)
    if donors:
        src = donors.pop(0)
        prev = catalog.get(src)
        if prev is not None:
            moved = replace(prev, path=st.path, folder=st.folder, size=size, mtime_ns=mtime_ns)
            return moved, src
    return _pending(st, fp, size, mtime_ns), None


def _verify(
    catalog: Catalog,
    store: FeatureStore,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> set[str]:
    """Phase 2: check every indexed row's stored files and descriptor.

    Returns the paths whose row changed (queued for encoding or descriptor derived).
    """
    bad_files: dict[str, str | None] = {}  # feature key -> verify() answer
    expected: dict[str | None, int] = {}  # encoder -> descriptor bytes
    changed: list[Row] = []
    for k, row in enumerate(catalog.rows("status = 'indexed'")):
        if k % _SCAN_REPORT == 0:
            check(cancel)
            progress(0, 0, "checking stored features")
        key = row.feature_key or ""
        if key not in bad_files:
            # Features and times only: a pose clip without its track stays queryable
            # until the encode phase rebuilds the track (see _missing_tracks).
            bad_files[key] = store.verify(key)
        if bad_files[key] is not None:
            if row.source == "file":  # an array row has no video to encode again
                changed.append(_requeued(row))
            continue
        if row.encoder not in expected:
            d = store.shape(key)[1]
            probe_cols = retrieval_features(np.zeros((1, d), np.float32), row.encoder)
            expected[row.encoder] = 8 * probe_cols.shape[1]  # mean and std, float32
        if row.descriptor is None or len(row.descriptor) != expected[row.encoder]:
            feats = from_storage(store.read(key, row.path).features)
            desc = clip_descriptor(retrieval_features(feats, row.encoder))
            changed.append(replace(row, descriptor=desc.tobytes()))
    if changed:
        with catalog.transaction() as tx:
            catalog.put(changed, tx)
            catalog.bump_generation(tx)
    return {r.path for r in changed}


def _donor(row: Row, catalog: Catalog, store: FeatureStore, version: str, pose: bool) -> Row | None:
    """An indexed copy of ``row``'s content whose stored files are intact, or None."""
    found = catalog.rows(
        "fingerprint = ? AND status = 'indexed' AND source = 'file' "
        "AND encoder_version = ? AND path != ?",
        (row.fingerprint, version, row.path),
        limit=1,
    )
    if not found or not found[0].feature_key:
        return None
    d = found[0]
    if store.verify(d.feature_key or "", pose) is not None or (pose and d.has_person is None):
        return None
    return d


def _encode_one(
    row: Row,
    catalog: Catalog,
    store: FeatureStore,
    encoder: Encoder,
    fps: float,
    cancel: CancelToken | None,
) -> tuple[Row, bool]:
    """Phase 3 for one pending row: (new row, whether it was decoded)."""
    pose = is_pose_encoder(encoder)
    # Only the identity of the file carries over: the result is the same whatever the
    # row held before (pending from a scan, a repair, a re-index, or indexed).
    base = _requeued(row)
    copied = copy_row(row, catalog, store, encoder.version, pose)
    if copied is not None:
        return copied, False
    warnings: list[str] = []
    track: PoseTrack | None = None
    seq: FeatureSequence
    try:
        info = probe(row.path)
        if pose:
            # One decoding pass for features and landmarks (fused: appearance too).
            seq, track = encode_pose_video(
                row.path,
                encoder,  # type: ignore[arg-type]
                fps=fps,
                on_warning=warnings.append,
                cancel=cancel,
            )
        else:
            seq = encode_video(
                row.path, encoder, fps=fps, on_warning=warnings.append, cancel=cancel
            )
    except Cancelled:
        raise
    except Exception as exc:  # one bad file must not stop the run: recorded, and logged
        reason, expected = failure_reason(exc, row.path)
        if expected:
            log.warning("not indexed: %s: %s", row.path, reason)
        else:
            # Not a property of the file but of our code (or a library's): the row says
            # so, and the traceback goes to the log instead of vanishing into a reason.
            log.exception("internal error while indexing %s", row.path)
        return replace(base, status="failed", reason=reason), True
    new = store_encoded(row, store, seq, info, encoder.name, encoder.version, warnings, track)
    return new, True


def copy_row(
    row: Row, catalog: Catalog, store: FeatureStore, encoder_version: str, pose: bool
) -> Row | None:
    """``row`` as a copy of an indexed file with the same content, or None if none is.

    Parameters
    ----------
    row : Row
        A row to encode (its file's identity is kept: path, folder, stat).
    catalog, store
        The library's.
    encoder_version : str
        Only rows encoded by this version count.
    pose : bool
        The encoder is a pose encoder (the copy needs a stored track and ``has_person``).

    Returns
    -------
    Row or None
        The donor's row under ``row``'s path, or None when no intact donor exists.
    """
    d = _donor(row, catalog, store, encoder_version, pose) if row.fingerprint else None
    if d is None:
        return None
    return replace(d, path=row.path, folder=row.folder, size=row.size, mtime_ns=row.mtime_ns)


def failure_reason(exc: BaseException, path: str) -> tuple[str, bool]:
    """The ``reason`` a file that could not be indexed gets, and whose fault it was.

    Parameters
    ----------
    exc : BaseException
        What probing, decoding or encoding the file raised.
    path : str
        The file (dropped from the front of the message).

    Returns
    -------
    reason : str
        One line; read problems start with :data:`READ_ERROR`, failures of the code
        (not of the file) read ``"internal error (...); see the log"``.
    expected : bool
        Whether the failure is about the file (bad input, I/O) rather than the code;
        the caller logs the traceback of an unexpected one.
    """
    reason = _reason(exc, path)
    if _expected_failure(exc):
        return reason, True
    return f"internal error ({reason}); see the log", False


def store_encoded(
    row: Row,
    store: FeatureStore,
    seq: FeatureSequence,
    info: VideoInfo,
    encoder_name: str,
    encoder_version: str,
    warnings: list[str],
    track: PoseTrack | None = None,
) -> Row:
    """Write a file's encoded features atomically and return its ``indexed`` row.

    Parameters
    ----------
    row : Row
        The row that was encoded (its file's identity and fingerprint are kept).
    store : FeatureStore
    seq : FeatureSequence
        The file's features, as :func:`~avr_gui.core.features.sequence.encode_video`
        returns them.
    info : VideoInfo
        The file's :func:`~avr_gui.core.video.probe.probe` result.
    encoder_name, encoder_version : str
    warnings : list of str
        Decode warnings, in the order they were issued (they go into ``reason``).
    track : PoseTrack, optional
        The pose track (pose encoders).

    Returns
    -------
    Row
        ``indexed``; or ``failed`` with a read-error reason (nothing stored) when the
        file changed since it was hashed.
    """
    base = _requeued(row)
    if _changed_since_hashed(row):
        # The features may not be those of the hashed content: never store them under
        # its key (a copy of the old content would reuse them). Tried again next run.
        return replace(base, status="failed", reason=READ_ERROR + _CHANGED)
    key = feature_key(row.fingerprint or "", encoder_version)
    store.write(key, seq, track)
    damaged_at, note = damage_note(info, seq.timestamps)
    return replace(
        base,
        status="indexed",
        reason="; ".join(([note] if note else []) + warnings) or None,
        feature_key=key,
        n_features=int(seq.features.shape[0]),
        duration=float(info.duration_s),
        fps=float(info.fps),
        width=int(info.width),
        height=int(info.height),
        encoder=encoder_name,
        encoder_version=encoder_version,
        descriptor=clip_descriptor(retrieval_features(seq.features, encoder_name)).tobytes(),
        has_person=None if track is None else _has_person(track, encoder_name),
        damaged_at=damaged_at,
    )


_CHANGED = "the file changed while it was being indexed"


def _changed_since_hashed(row: Row) -> bool:
    """Whether the file's stat differs from the one its fingerprint was taken under."""
    try:
        st = os.stat(row.path)
    except OSError:
        return True
    return (st.st_size, st.st_mtime_ns) != (row.size, row.mtime_ns)


def _missing_tracks(catalog: Catalog, store: FeatureStore) -> list[Row]:
    """Indexed video rows of a pose library without a pose track or ``has_person``."""
    return [
        r
        for r in catalog.rows("status = 'indexed' AND source = 'file'")
        if r.has_person is None or not r.feature_key or not store.has_track(r.feature_key)
    ]


def run_index(
    catalog: Catalog,
    store: FeatureStore,
    folders: list[str],
    encoder: Callable[[], Encoder],
    *,
    fps: float = 10.0,
    pose: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexSummary:
    """Bring the library up to date with its folders.

    Parameters
    ----------
    catalog : Catalog
    store : FeatureStore
    folders : list of str
        Absolute library folders.
    encoder : callable
        Returns the library's encoder; called only if some file needs encoding (so an
        unchanged library never loads a model).
    fps : float
        Frame sampling rate of the features.
    pose : bool
        The library's encoder is a pose encoder: indexed clips without a pose track
        are encoded again (after the pending ones) so that every clip gets one.
    progress : callable
        ``progress(done, total, message)``; the message names the current file.
    cancel : CancelToken, optional
        Checked between files; a cancelled run leaves the rest ``pending``.

    Returns
    -------
    IndexSummary
    """
    plan = plan_index(catalog, store, folders, pose=pose, progress=progress, cancel=cancel)
    pending = plan.pending
    encoded = 0
    enc: Encoder | None = None
    for k, row in enumerate(pending):
        check(cancel)
        progress(k, len(pending), row.path)
        if enc is None:
            enc = encoder()
        new, decoded = _encode_one(row, catalog, store, enc, fps, cancel)
        encoded += int(decoded and new.status == "indexed")
        commit_rows(catalog, [(row, new)])
    if pending:
        progress(len(pending), len(pending), "done")
    return finish_index(catalog, store, plan, encoded)


@dataclass(frozen=True)
class IndexPlan:
    """What the scan and verify phases of an index run found (see :func:`plan_index`).

    Attributes
    ----------
    pending : list of Row
        Rows to encode, in path order (pose libraries: then indexed rows without a
        track).
    unchanged : set of str
        Paths that cost a stat only.
    removed, moved : int
        Rows deleted (file gone) and rows handed on to a moved file.
    repaired : set of str
        Paths whose row the verify phase changed.
    started : float
        :func:`time.perf_counter` when the run began.
    """

    pending: list[Row]
    unchanged: set[str]
    removed: int
    moved: int
    repaired: set[str]
    started: float


def plan_index(
    catalog: Catalog,
    store: FeatureStore,
    folders: list[str],
    *,
    pose: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexPlan:
    """Phases 1 and 2 of an index run: scan the folders, verify the stored files.

    Any engine then encodes :attr:`IndexPlan.pending` (committing each result with
    :func:`commit_rows`) and ends with :func:`finish_index`.

    Parameters
    ----------
    catalog, store, folders, pose, progress, cancel
        As for :func:`run_index`.

    Returns
    -------
    IndexPlan
    """
    t0 = time.perf_counter()
    unchanged, removed, moved = _scan(catalog, store, folders, progress, cancel)
    repaired = _verify(catalog, store, progress, cancel)
    pending = catalog.rows("status = 'pending' AND source = 'file'")
    if pose:
        pending += _missing_tracks(catalog, store)
    return IndexPlan(pending, unchanged, removed, moved, repaired, t0)


def commit_rows(catalog: Catalog, changes: list[tuple[Row, Row]]) -> None:
    """Commit encoded rows in one transaction.

    Parameters
    ----------
    catalog : Catalog
    changes : list of (Row, Row)
        ``(row as planned, its new row)``; the search generation moves when a row
        becomes or was ``indexed`` (searches must see the change).
    """
    if not changes:
        return
    with catalog.transaction() as tx:
        catalog.put([new for _, new in changes], tx)
        if any(new.status == "indexed" or old.status == "indexed" for old, new in changes):
            catalog.bump_generation(tx)


def finish_index(
    catalog: Catalog, store: FeatureStore, plan: IndexPlan, encoded: int
) -> IndexSummary:
    """End an index run: delete feature files no row names, count the catalog.

    Parameters
    ----------
    catalog, store
    plan : IndexPlan
        From :func:`plan_index`.
    encoded : int
        Files decoded and indexed by the run.

    Returns
    -------
    IndexSummary
    """
    store.collect_garbage(catalog.feature_keys())
    counts = catalog.counts()
    return IndexSummary(
        videos=sum(counts.values()),
        indexed=counts["indexed"],
        failed=counts["failed"],
        pending=counts["pending"],
        unchanged=len(plan.unchanged - plan.repaired),
        removed=plan.removed,
        moved=plan.moved,
        encoded=encoded,
        seconds=time.perf_counter() - plan.started,
        repaired=len(plan.repaired),
    )
