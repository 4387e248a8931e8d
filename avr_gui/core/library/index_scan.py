"""Phases 1 and 2 of the indexing job: scan the folders, verify the stored files.

:func:`scan_folders` brings the catalog in line with the library folders (new and
changed files hashed and queued, moves and copies recognised, vanished rows deleted,
legacy fingerprints replaced); :func:`verify_stored` queues indexed rows whose stored
files are missing or damaged and derives damaged clip descriptors again;
:func:`missing_tracks` lists the clips of a pose library that still need a pose track.
See :mod:`~avr_gui.core.library.indexer` for the rules and the phase that follows.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace

import numpy as np

from avr_gui.core.features.compact import from_storage
from avr_gui.core.jobs import CancelToken, ProgressCallback, check
from avr_gui.core.library.catalog import Catalog, Row
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.library.index_rows import (
    error_reason,
    feature_key,
    is_read_failure,
    requeued,
)
from avr_gui.core.library.query import retrieval_features
from avr_gui.core.library.scan import FileStat, hash_file, is_legacy, walk
from avr_gui.core.library.store import FeatureStore

# Files between progress reports while scanning (a report per file would dominate the
# cost of re-checking an unchanged library).
_SCAN_REPORT = 500


def _pending(st: FileStat, fp: str, size: int, mtime_ns: int) -> Row:
    """A row to encode: identity fields only, so every path to it gives the same row."""
    return Row(st.path, st.folder, "file", size, mtime_ns, fp, "pending")


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


def scan_folders(
    catalog: Catalog,
    store: FeatureStore,
    folders: list[str],
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> tuple[set[str], int, int]:
    """Phase 1: bring the catalog in line with the folders (one transaction).

    Parameters
    ----------
    catalog, store
        The library's.
    folders : list of str
        Absolute library folders; one that is missing keeps its rows.
    progress : callable
        ``progress(0, 0, message)`` every few hundred files and before each hash.
    cancel : CancelToken, optional
        Checked as for ``progress``; nothing is written when it fires.

    Returns
    -------
    unchanged : set of str
        Paths of the files that cost a stat only.
    removed, moved : int
        Rows deleted (file gone) and rows handed on to a moved file.
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
        reason = error_reason(exc, st.path)
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


def verify_stored(
    catalog: Catalog,
    store: FeatureStore,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> set[str]:
    """Phase 2: check every indexed row's stored files and descriptor (one transaction).

    Parameters
    ----------
    catalog, store
        The library's.
    progress : callable
        ``progress(0, 0, message)`` every few hundred rows.
    cancel : CancelToken, optional
        Checked as for ``progress``; nothing is written when it fires.

    Returns
    -------
    set of str
        Paths whose row changed (queued for encoding or descriptor derived).
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
            # until the encode phase rebuilds the track (see missing_tracks).
            bad_files[key] = store.verify(key)
        if bad_files[key] is not None:
            if row.source == "file":  # an array row has no video to encode again
                changed.append(requeued(row))
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


def missing_tracks(catalog: Catalog, store: FeatureStore) -> list[Row]:
    """Indexed video rows of a pose library without a pose track or ``has_person``.

    Parameters
    ----------
    catalog, store
        The library's.

    Returns
    -------
    list of Row
        In path order; the encode phase encodes them again (after the pending ones).
    """
    return [
        r
        for r in catalog.rows("status = 'indexed' AND source = 'file'")
        if r.has_person is None or not r.feature_key or not store.has_track(r.feature_key)
    ]
