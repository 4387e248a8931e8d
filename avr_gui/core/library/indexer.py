"""The indexing job: incremental, resumable after a kill, per-file failures recorded.

Three phases, each change one SQLite transaction (phases 1 and 2 live in
:mod:`~avr_gui.core.library.index_scan`, the rows phase 3 writes are built in
:mod:`~avr_gui.core.library.index_rows`; this module runs them in order):

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
   :func:`~avr_gui.core.library.index_rows.damage_note`) is indexed with the frames it
   has, ``damaged_at`` set to where it stops and a note in ``reason``. A file that
   cannot be read becomes ``failed`` with the reason; the run goes on. A file whose
   size or time changed between its hash and its decoding is not stored under the old
   hash: it fails as a read problem and the next run takes it up.

With a pose encoder (:data:`~avr_gui.core.library.index_rows.POSE_ENCODER_NAMES`) the
same single decoding pass (:func:`~avr_gui.core.features.pose.encode_pose_video`) also
yields the clip's landmarks: its :class:`~avr_gui.core.features.pose.PoseTrack` is
stored beside the features and its row records ``has_person`` (any frame with a usable
pose). Clips of a
pose library without a track or with ``has_person`` unknown (indexed before tracks
were stored, or the track file was lost) are encoded again by the next run, after the
pending ones; they stay queryable meanwhile.

A killed run leaves pending rows and perhaps feature files no row names; the next run
picks the pending rows up and deletes the orphans, so it ends with exactly the catalog
an uninterrupted run would have written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.pose.encoder import PoseTrack, encode_pose_video
from avr_gui.core.features.sequence import FeatureSequence, encode_video
from avr_gui.core.jobs import Cancelled, CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.index_rows import (
    POSE_ENCODER_NAMES,
    READ_ERROR,
    copy_row,
    damage_note,
    failure_reason,
    feature_key,
    is_pose_encoder,
    is_read_failure,
    requeued,
    store_encoded,
)
from avr_gui.core.library.index_scan import missing_tracks, scan_folders, verify_stored
from avr_gui.core.library.projection import update_projection
from avr_gui.core.library.store import FeatureStore
from avr_gui.core.video.probe import probe

log = logging.getLogger(__name__)


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
    base = requeued(row)
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
    return finish_index(catalog, store, plan, encoded, progress=progress, cancel=cancel)


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
    unchanged, removed, moved = scan_folders(catalog, store, folders, progress, cancel)
    repaired = verify_stored(catalog, store, progress, cancel)
    pending = catalog.rows("status = 'pending' AND source = 'file'")
    if pose:
        pending += missing_tracks(catalog, store)
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
    catalog: Catalog,
    store: FeatureStore,
    plan: IndexPlan,
    encoded: int,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexSummary:
    """End an index run: compact copies, delete files no row names, count the catalog.

    Parameters
    ----------
    catalog, store
    plan : IndexPlan
        From :func:`plan_index`.
    encoded : int
        Files decoded and indexed by the run.
    progress, cancel
        For the compact copies (:func:`~avr_gui.core.library.projection.
        update_projection`); a cancel there skips the rest of that step only.

    Returns
    -------
    IndexSummary
    """
    proj = update_projection(catalog, store, progress=progress, cancel=cancel)
    store.collect_garbage(catalog.feature_keys(), None if proj is None else proj.ident)
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


# Names other modules import from here (their homes are index_rows and index_scan).
__all__ = [
    "POSE_ENCODER_NAMES",
    "READ_ERROR",
    "IndexPlan",
    "IndexSummary",
    "commit_rows",
    "copy_row",
    "damage_note",
    "failure_reason",
    "feature_key",
    "finish_index",
    "is_pose_encoder",
    "is_read_failure",
    "plan_index",
    "run_index",
    "store_encoded",
]
