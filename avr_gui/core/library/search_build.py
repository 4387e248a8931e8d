"""Builds of a library's compressed search index: one per library, in the background.

The build side of :mod:`avr_gui.core.library.search`: what this process knows of each
library folder's build (:class:`FolderState`), the background build thread, the lock
that keeps builds of one library in two processes apart, and the build itself, which
streams the descriptors from a read snapshot of the catalog into ``clips.scale/``
(:func:`~avr_gui.core.scale.saved.publish`).

The bank masses of a build come from the search module as a callable (``log_mass``):
this module is imported by it and must not import it back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from avr_gui.core.library.search import SearchIndex

#: Descriptors read from the catalog per step of a compressed build.
READ_CHUNK = 16_384
#: OpenMP threads of a background build: all cores but one, which stays free for the
#: queries it must not block (the setting is per thread: queries keep all cores).
#: On 2 shared cores two spin-waiting build threads also ran ~5x slower than one.
BUILD_THREADS = max(1, (os.cpu_count() or 2) - 1)

#: Bank masses of standardised vectors, shape (N, D) -> (N,), or None for too few clips.
LogMass = Callable[[np.ndarray], np.ndarray | None]

try:
    import fcntl
except ImportError:  # Windows: builds in two processes are not kept apart there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@dataclass
class FolderState:
    """What this process knows of one library folder's compressed index.

    Attributes
    ----------
    lock : threading.Lock
        Guards the fields (never held while building).
    thread : threading.Thread, optional
        The running build.
    building : int
        The catalog generation the running (or last) build was started for.
    serving : SearchIndex, optional
        The build answering queries while another is made (dropped once published:
        the caller caches what it gets).
    error : BaseException, optional
        Why the last build failed (for the generation in ``failed``).
    failed : int
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    building: int = -1
    serving: SearchIndex | None = None
    error: BaseException | None = None
    failed: int = -1


_STATES: dict[str, FolderState] = {}
_STATES_LOCK = threading.Lock()


def folder_state(folder: Path) -> FolderState:
    """The build state of a library folder (one per real path, made on first use).

    Parameters
    ----------
    folder : pathlib.Path
        The library's index folder.

    Returns
    -------
    FolderState
    """
    key = os.path.realpath(folder)
    with _STATES_LOCK:
        return _STATES.setdefault(key, FolderState())


def wait_for_build(folder: str | os.PathLike[str], timeout: float | None = None) -> bool:
    """Wait for a background build of ``folder``'s compressed index to finish.

    Parameters
    ----------
    folder : path-like
        The library's index folder.
    timeout : float, optional
        Seconds; None waits as long as it takes.

    Returns
    -------
    bool
        True when no build is running any more.
    """
    state = folder_state(Path(folder))
    with state.lock:
        thread = state.thread
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def build_in_background(
    catalog_path: Path, folder: Path, state: FolderState, log_mass: LogMass
) -> None:
    """Body of a background build thread: build, and leave the outcome in ``state``.

    Parameters
    ----------
    catalog_path : pathlib.Path
        The library's ``catalog.sqlite``.
    folder : pathlib.Path
        The library's index folder.
    state : FolderState
        The folder's state: ``error`` and ``failed`` are set when the build fails,
        ``serving`` is dropped when it is published.
    log_mass : callable
        The bank masses of the build's vectors.
    """
    import faiss

    faiss.omp_set_num_threads(BUILD_THREADS)
    try:
        build_compressed(catalog_path, folder, log_mass)
    except BaseException as exc:  # reported to the next caller; the thread must not die loud
        log.exception("building the compressed search index of %s failed", folder)
        with state.lock:
            state.error, state.failed = exc, state.building
    else:
        with state.lock:
            state.serving = None  # the published build replaces it at the next call


@contextlib.contextmanager
def _build_lock(scale_dir: Path) -> Iterator[None]:
    """One build at a time per library, across processes (waits for the other)."""
    scale_dir.mkdir(exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(scale_dir / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock (a killed process releases it too)


def _snapshot(catalog_path: Path) -> sqlite3.Connection:
    """A read-only connection of its own (the caller's catalog keeps serving queries)."""
    uri = Path(catalog_path).resolve().as_uri()
    try:
        db = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30.0, isolation_level=None)
        # One read transaction: generation, count and rows come from one snapshot (WAL).
        db.execute("BEGIN")
        db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        # A read-only mount where SQLite cannot make its shared-memory file: nobody can
        # be writing there, so the file is read as immutable (as Catalog does).
        db = sqlite3.connect(
            uri + "?mode=ro&immutable=1", uri=True, timeout=30.0, isolation_level=None
        )
        db.execute("BEGIN")
    return db


def build_compressed(
    catalog_path: str | os.PathLike[str], folder: str | os.PathLike[str], log_mass: LogMass
) -> int:
    """Build and publish the compressed index of a library from a catalog snapshot.

    Streams the descriptors (:data:`READ_CHUNK` at a time) into the build's vectors
    file; memory stays near the IVF-PQ codes plus one chunk and the training sample.

    Parameters
    ----------
    catalog_path : path-like
        The library's ``catalog.sqlite``.
    folder : path-like
        The library's index folder (the build goes to ``clips.scale/``).
    log_mass : callable
        The bank masses of the standardised vectors (saved with the build).

    Returns
    -------
    int
        The catalog generation built (skipped, and returned, when a build of it is
        already published).
    """
    from avr_gui.core.library.errors import LibraryCorruptError
    from avr_gui.core.scale import saved

    scale_dir = Path(folder) / saved.SCALE_DIR
    with _build_lock(scale_dir):
        db = _snapshot(Path(catalog_path))
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            generation = int(row[0]) if row else 0
            ptr = saved.read_pointer(scale_dir)
            # Equal, not "at least": a catalog made afresh starts its generations over.
            if ptr is not None and ptr["generation"] == generation:
                return generation  # another process built it while we waited for the lock
            saved.remove_unused(scale_dir)  # what a killed build left
            n = int(
                db.execute("SELECT COUNT(*) FROM videos WHERE status = 'indexed'").fetchone()[0]
            )
            cur = db.execute(
                "SELECT path, descriptor FROM videos WHERE status = 'indexed' ORDER BY path"
            )
            first = cur.fetchmany(READ_CHUNK)
            if n < 2 or not first:
                raise LibraryCorruptError("a compressed index needs at least two indexed clips")
            size = len(first[0][1] or b"")

            def chunks() -> Iterator[tuple[list[str], np.ndarray]]:
                rows = first
                while rows:
                    for path, blob in rows:
                        m = len(blob) if isinstance(blob, bytes) else -1
                        if m != size or m < 4 or m % 4:
                            raise LibraryCorruptError(
                                f"{path}: its clip descriptor in the catalog is damaged "
                                f"({max(m, 0)} bytes, the others {size}); run 'avr index' "
                                "to repair it"
                            )
                    desc = np.frombuffer(b"".join(r[1] for r in rows), np.float32)
                    yield [r[0] for r in rows], desc.reshape(len(rows), -1)
                    rows = cur.fetchmany(READ_CHUNK)

            saved.publish(scale_dir, generation, n, size // 4, chunks(), log_mass)
        finally:
            db.close()
    return generation
