"""The indexing job: incremental, resumable after a kill, per-file failures recorded.

Two phases, each change one SQLite transaction:

1. Scan. Every library folder is walked; a file whose size and modification time match
   its catalog row costs that one ``stat``. New and changed files are fingerprinted;
   a new path whose fingerprint matches a vanished row is a move (its features are
   kept), vanished rows are deleted, and everything else that needs work is written as
   ``pending`` in one transaction.
2. Encode. Pending rows are processed in path order: a copy of an indexed video (same
   fingerprint) reuses its features; anything else is probed, decoded and encoded
   (:func:`~avr_gui.core.features.sequence.encode_video` decodes on a prefetch thread
   while the encoder runs, on the GPU when there is one), its arrays are written
   atomically, and only then is its row switched to ``indexed``. A file that cannot be
   read becomes ``failed`` with the reason; the run goes on.

With a pose encoder (:data:`POSE_ENCODER_NAMES`) the same single decoding pass
(:func:`~avr_gui.core.features.pose.encode_pose_video`) also yields the clip's
landmarks: its :class:`~avr_gui.core.features.pose.PoseTrack` is stored beside the
features and its row records ``has_person`` (any frame with a usable pose). Clips of a
pose library indexed before tracks were stored (no track, ``has_person`` unknown) are
encoded again by the next run, after the pending ones; they stay queryable meanwhile.

A killed run leaves pending rows and perhaps feature files no row names; the next run
picks the pending rows up and deletes the orphans, so it ends with exactly the catalog
an uninterrupted run would have written.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from avr_gui.core.errors import AvrError
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
from avr_gui.core.library.query import retrieval_features
from avr_gui.core.library.scan import FileStat, fingerprint, walk
from avr_gui.core.library.store import FeatureStore
from avr_gui.core.video.probe import probe

# Files between progress reports while scanning (a report per file would dominate the
# cost of re-checking an unchanged library).
_SCAN_REPORT = 500

#: Registry names of the encoders whose libraries store pose tracks.
POSE_ENCODER_NAMES: frozenset[str] = frozenset(b.name for b in POSE_BACKENDS)


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
        Files that cost a stat only.
    removed : int
        Rows deleted because their file is gone (or its folder left the library).
    moved : int
        Files found under a new path with known content (features kept).
    encoded : int
        Files decoded and encoded in this run.
    seconds : float
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


def feature_key(fp: str, encoder_version: str) -> str:
    """Store key of a file's features: its fingerprint under one encoder version."""
    h = hashlib.blake2b(f"{fp}\0{encoder_version}".encode(), digest_size=16)
    return "v" + h.hexdigest()


def _reason(exc: BaseException, path: str) -> str:
    text = " ".join(str(exc).split()).removeprefix(f"{path}: ")
    if isinstance(exc, AvrError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _scan(
    catalog: Catalog, folders: list[str], progress: ProgressCallback, cancel: CancelToken | None
) -> tuple[int, int, int]:
    """Phase 1: bring the catalog in line with the folders. Returns (unchanged, removed, moved)."""
    table = catalog.stat_table()
    seen: dict[str, FileStat] = {}
    unchanged = 0
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
            if row is not None and row[0] == st.size and row[1] == st.mtime_ns:
                # Same stat: nothing to do now (a pending row is encoded in phase 2).
                unchanged += row[2] != "pending"
            else:
                todo.append(st)
    # A library folder that is missing altogether (an unplugged drive) keeps its rows.
    absent = tuple(f.rstrip(os.sep) + os.sep for f in folders if not os.path.isdir(f))
    vanished = {
        p: v
        for p, v in table.items()
        if v[4] == "file" and p not in seen and not (absent and p.startswith(absent))
    }
    by_fp: dict[str, list[str]] = {}
    for p, v in sorted(vanished.items()):
        if v[3] is not None:
            by_fp.setdefault(v[3], []).append(p)
    new_rows: list[Row] = []
    moved_from: list[str] = []
    for st in todo:
        check(cancel)
        base = Row(st.path, st.folder, "file", st.size, st.mtime_ns, None, "pending")
        try:
            fp = fingerprint(st.path, st.size)
        except OSError as exc:
            new_rows.append(replace(base, status="failed", reason=_reason(exc, st.path)))
            continue
        old = table.get(st.path)
        if old is not None and old[3] == fp and old[2] != "pending":
            # Touched but not changed (same content): keep the row, note the new stat.
            prev = catalog.get(st.path)
            if prev is not None:
                new_rows.append(replace(prev, size=st.size, mtime_ns=st.mtime_ns))
                continue
        donors = by_fp.get(fp)
        if donors:
            src = donors.pop(0)
            prev = catalog.get(src)
            if prev is not None:
                moved_from.append(src)
                new_rows.append(
                    replace(
                        prev, path=st.path, folder=st.folder, size=st.size, mtime_ns=st.mtime_ns
                    )
                )
                continue
        new_rows.append(replace(base, fingerprint=fp))
    gone = [p for p in vanished if p not in set(moved_from)]
    if new_rows or gone or moved_from:
        with catalog.transaction() as tx:
            catalog.delete(gone + moved_from, tx)
            catalog.put(new_rows, tx)
            catalog.bump_generation(tx)
    return unchanged, len(gone), len(moved_from)


def _encode_one(
    row: Row,
    catalog: Catalog,
    store: FeatureStore,
    encoder: Encoder,
    fps: float,
    cancel: CancelToken | None,
) -> tuple[Row, bool]:
    """Phase 2 for one pending row: (new row, whether it was decoded)."""
    pose = is_pose_encoder(encoder)
    key = feature_key(row.fingerprint or "", encoder.version)
    donor = catalog.rows(
        "fingerprint = ? AND status = 'indexed' AND encoder_version = ? AND path != ?",
        (row.fingerprint, encoder.version, row.path),
        limit=1,
    )
    if (
        donor
        and donor[0].feature_key == key
        and store.has(key)
        and (not pose or (donor[0].has_person is not None and store.has_track(key)))
    ):
        d = donor[0]
        return (
            replace(
                row,
                status="indexed",
                reason=d.reason,
                feature_key=key,
                n_features=d.n_features,
                duration=d.duration,
                fps=d.fps,
                width=d.width,
                height=d.height,
                encoder=d.encoder,
                encoder_version=d.encoder_version,
                descriptor=d.descriptor,
                has_person=d.has_person,
            ),
            False,
        )
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
    except Exception as exc:  # any per-file failure is recorded; the run goes on
        return replace(row, status="failed", reason=_reason(exc, row.path), has_person=None), True
    store.write(key, seq, track)
    return (
        replace(
            row,
            status="indexed",
            reason="; ".join(warnings) or None,
            feature_key=key,
            n_features=int(seq.features.shape[0]),
            duration=float(info.duration_s),
            fps=float(info.fps),
            width=int(info.width),
            height=int(info.height),
            encoder=encoder.name,
            encoder_version=encoder.version,
            descriptor=clip_descriptor(retrieval_features(seq.features, encoder.name)).tobytes(),
            has_person=None if track is None else _has_person(track, encoder.name),
        ),
        True,
    )


def _missing_tracks(catalog: Catalog, store: FeatureStore) -> list[Row]:
    """Indexed video rows of a pose library that have no pose track (indexed before)."""
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
    t0 = time.perf_counter()
    unchanged, removed, moved = _scan(catalog, folders, progress, cancel)
    pending = catalog.rows("status = 'pending' AND source = 'file'")
    if pose:
        pending += _missing_tracks(catalog, store)
    encoded = 0
    enc: Encoder | None = None
    for k, row in enumerate(pending):
        check(cancel)
        progress(k, len(pending), row.path)
        if enc is None:
            enc = encoder()
        new, decoded = _encode_one(row, catalog, store, enc, fps, cancel)
        encoded += int(decoded and new.status == "indexed")
        with catalog.transaction() as tx:
            catalog.put([new], tx)
            if new.status == "indexed" or row.status == "indexed":
                catalog.bump_generation(tx)
    if pending:
        progress(len(pending), len(pending), "done")
    store.collect_garbage(catalog.feature_keys())
    counts = catalog.counts()
    return IndexSummary(
        videos=sum(counts.values()),
        indexed=counts["indexed"],
        failed=counts["failed"],
        pending=counts["pending"],
        unchanged=unchanged,
        removed=removed,
        moved=moved,
        encoded=encoded,
        seconds=time.perf_counter() - t0,
    )
