"""The library catalog: one SQLite database (WAL) listing every video and its state.

Every change is one transaction, so a process killed at any moment leaves the catalog
as it was before or after that change. Rows are kept free of clocks and run order
(no "indexed at" times, no auto-numbered keys that callers rely on), so two runs over
the same files produce the same catalog however often they were interrupted.

Schema history: version 2 added ``has_person`` (pose libraries), version 3
``damaged_at`` (where a damaged video stops being readable). An older catalog is migrated
in place when opened for writing (new columns start NULL: not known / intact); opened
read-only it is read as it is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

from avr_gui.core.errors import AvrError, DiskFullError
from avr_gui.core.library.errors import (
    LibraryBusyError,
    LibraryCorruptError,
    LibraryError,
)

SCHEMA_VERSION = 3
STATUSES = ("indexed", "failed", "pending")
#: ``source`` of a row: a file found in a library folder, or an array added directly.
SOURCES = ("file", "array")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS videos (
    path TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('file', 'array')),
    size INTEGER,
    mtime_ns INTEGER,
    fingerprint TEXT,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'pending')),
    reason TEXT,
    feature_key TEXT,
    n_features INTEGER NOT NULL DEFAULT 0,
    duration REAL,
    fps REAL,
    width INTEGER,
    height INTEGER,
    encoder TEXT,
    encoder_version TEXT,
    descriptor BLOB,
    has_person INTEGER,
    damaged_at REAL
);
CREATE INDEX IF NOT EXISTS videos_fingerprint ON videos (fingerprint);
CREATE INDEX IF NOT EXISTS videos_status ON videos (status);
"""


@dataclass(frozen=True)
class Row:
    """One catalog row (see the module docstring of :mod:`avr_gui.core.library`).

    ``descriptor`` is the clip descriptor (float32 bytes, mean ⊕ std of the frame
    features) used for retrieval; ``None`` until the video is indexed.
    ``has_person``: whether any frame shows a tracked person, for libraries whose
    encoder is a pose encoder; ``None`` otherwise (or not known yet).
    ``damaged_at``: for a video that decodes only part of its nominal length
    (truncated, damaged), the seconds it can be read to; features, playback and export
    stop there. ``None`` for an intact video.
    """

    path: str
    folder: str
    source: str
    size: int | None
    mtime_ns: int | None
    fingerprint: str | None
    status: str
    reason: str | None = None
    feature_key: str | None = None
    n_features: int = 0
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    encoder: str | None = None
    encoder_version: str | None = None
    descriptor: bytes | None = None
    has_person: bool | None = None
    damaged_at: float | None = None

    @property
    def damaged(self) -> bool:
        """Whether the video decodes only up to :attr:`damaged_at`."""
        return self.damaged_at is not None


_N_FIELDS = 19


def _row(values: tuple) -> Row:
    # SQLite hands booleans back as 0 / 1; a catalog read without migration (read-only,
    # older schema) lacks the newest columns, which then read as "not known".
    values = tuple(values) + (None,) * (_N_FIELDS - len(values))
    flag = values[17]
    return Row(*values[:17], None if flag is None else bool(flag), values[18])


_COLUMNS = tuple(f.name for f in fields(Row))
_INSERT = (
    f"INSERT OR REPLACE INTO videos ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


#: Free bytes under which an I/O error is taken for a full disk.
_NEARLY_FULL = 1 << 20


def _operational_error(path: Path, exc: sqlite3.Error) -> AvrError | None:
    """A one-line library error for SQLite failures a user can act on (None: other).

    A full disk, a read-only file or a lock held too long are not damage: the catalog
    is intact and the advice differs ("move it away" would be wrong).
    """
    # The primary result code says what happened (Python >= 3.11); the text is the
    # fallback where it is missing.
    code = getattr(exc, "sqlite_errorcode", None)
    name = {13: "full", 8: "readonly", 5: "busy", 6: "busy", 14: "cantopen", 10: "ioerr"}.get(
        (code or 0) & 0xFF, ""
    )
    text = f"{name} {exc}".lower()
    free = None
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(path.parent).free
    # A full disk shows as SQLITE_FULL, or as an I/O error when SQLite cannot grow its
    # shared-memory or WAL file; either way nothing was lost.
    full = name == "full" or "disk is full" in text
    if full or (name == "ioerr" and free is not None and free < _NEARLY_FULL):
        return DiskFullError(str(path), free_bytes=free)
    if name == "ioerr" or "disk i/o error" in text:
        return LibraryError(f"{path}: disk I/O error on the catalog ({exc}); check the drive")
    if name == "readonly" or "readonly" in text or "read-only" in text:
        return LibraryError(f"{path}: the catalog cannot be written here (read-only)")
    if name == "busy" or "locked" in text:
        return LibraryBusyError(f"{path}: another process holds the catalog; try again")
    if name == "cantopen" or "unable to open" in text:
        return LibraryError(f"{path}: the catalog cannot be opened ({exc})")
    return None


class Catalog:
    """The SQLite catalog of one library; safe to share between threads.

    Parameters
    ----------
    path : path-like
        Database file (created if missing, unless ``readonly``).
    readonly : bool
        Open for reading only: nothing is created, migrated or written, and any write
        raises. On a read-only file system (where SQLite cannot make its shared-memory
        file) the database is read as immutable: nobody can change it there.

    Raises
    ------
    LibraryCorruptError
        The file is not a catalog, or its schema is newer than this program's.
    LibraryError
        ``readonly`` and the file is missing or cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        fresh = not readonly and not self.path.exists()
        try:
            self._open(readonly)
        except BaseException:
            if fresh:
                # A catalog that could not be set up (a full disk) is not left behind
                # half made: the next run starts clean instead of finding no tables.
                self._discard_new()
            raise

    def _open(self, readonly: bool) -> None:
        try:
            self._db = self._connect_readonly() if readonly else self._connect_writable()
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(videos)")}
        except sqlite3.DatabaseError as exc:
            known = _operational_error(self.path, exc)
            if known is not None:
                raise known from exc
            raise LibraryCorruptError(
                f"{self.path}: not a library catalog ({exc}); move it away to start afresh"
            ) from exc
        if not cols:
            raise LibraryCorruptError(f"{self.path}: not a library catalog (no videos table)")
        # Columns of an older schema read without migration are the leading ones.
        self._columns = tuple(c for c in _COLUMNS if c in cols)
        version = self.get_meta("schema_version")
        if version is not None and version.isdigit() and int(version) > SCHEMA_VERSION:
            raise LibraryCorruptError(
                f"{self.path}: catalog schema {version}, this program reads {SCHEMA_VERSION}; "
                "update AVR Studio"
            )
        if readonly:
            return
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif version != str(SCHEMA_VERSION):
            self._migrate(version)
            self._columns = _COLUMNS

    def _discard_new(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                self.path.with_name(self.path.name + suffix).unlink()

    def _connect_writable(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            os.fspath(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives a killed process intact; only a power cut may
        # lose the last commits (never corrupt them).
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    def _connect_readonly(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise LibraryError(f"{self.path.parent}: not a library (no catalog.sqlite)")
        uri = self.path.resolve().as_uri()
        # A WAL database needs its shared-memory file; where the folder cannot be
        # written and a writer left none, nobody can be writing: read it as immutable.
        shm = self.path.with_name(self.path.name + "-shm")
        immutable = not os.access(self.path.parent, os.W_OK) and not shm.exists()
        query = "?mode=ro&immutable=1" if immutable else "?mode=ro"
        try:
            db = sqlite3.connect(
                uri + query, uri=True, timeout=30.0, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            if immutable:
                raise
            # Root ignores permission bits, and a read-only mount may still refuse:
            # fall back to immutable reading.
            db = sqlite3.connect(
                uri + "?mode=ro&immutable=1", uri=True, timeout=30.0, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return db

    def _migrate(self, version: str) -> None:
        """Bring an older schema (1 or 2) up to :data:`SCHEMA_VERSION` in place."""
        if version not in ("1", "2"):
            raise LibraryCorruptError(
                f"{self.path}: catalog schema {version}, this program reads {SCHEMA_VERSION}"
            )
        with self.transaction() as tx:
            # Another process may have migrated between our read and this transaction.
            got = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if got is not None and got[0] == str(SCHEMA_VERSION):
                return
            cols = {r[1] for r in tx.execute("PRAGMA table_info(videos)")}
            if "has_person" not in cols:
                tx.execute("ALTER TABLE videos ADD COLUMN has_person INTEGER")
            if "damaged_at" not in cols:
                tx.execute("ALTER TABLE videos ADD COLUMN damaged_at REAL")
            self.set_meta("schema_version", str(SCHEMA_VERSION), tx)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: commits on success, rolls back on any exception."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    # SQLite may have rolled back already (a full disk does that).
                    with contextlib.suppress(sqlite3.OperationalError):
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                known = _operational_error(self.path, exc)
                if known is None:
                    raise
                with contextlib.suppress(sqlite3.OperationalError):
                    self._db.execute("ROLLBACK")
                raise known from exc

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                known = _operational_error(self.path, exc)
                if known is None:
                    raise
                raise known from exc

    # -- meta and folders -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Value stored under ``key`` or None."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        """Store ``value`` under ``key`` (inside ``db``'s transaction when given)."""
        sql = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
        if db is not None:
            db.execute(sql, (key, value))
            return
        with self.transaction() as tx:
            tx.execute(sql, (key, value))

    def bump_generation(self, db: sqlite3.Connection) -> None:
        """Mark the set of indexed clips as changed (cached search indexes go stale)."""
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        self.set_meta("generation", str(int(row[0]) + 1 if row else 1), db)

    @property
    def generation(self) -> int:
        """Counter that changes whenever an indexed clip is added, changed or removed."""
        return int(self.get_meta("generation") or 0)

    def folders(self) -> list[str]:
        """Library folders, sorted."""
        return [r[0] for r in self._query("SELECT path FROM folders ORDER BY path")]

    def add_folder(self, folder: str) -> None:
        """Add a folder (no-op if present)."""
        with self.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO folders (path) VALUES (?)", (folder,))

    def remove_folder(self, folder: str) -> None:
        """Forget a folder; its videos go at the next index run."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM folders WHERE path = ?", (folder,))

    # -- rows -------------------------------------------------------------------------

    def put(self, rows: Iterable[Row], db: sqlite3.Connection) -> None:
        """Insert or replace rows inside the transaction ``db``."""
        db.executemany(_INSERT, (astuple(r) for r in rows))

    def delete(self, paths: Iterable[str], db: sqlite3.Connection) -> None:
        """Delete rows by path inside the transaction ``db``."""
        db.executemany("DELETE FROM videos WHERE path = ?", ((p,) for p in paths))

    def get(self, path: str) -> Row | None:
        """The row of ``path`` or None."""
        rows = self._query(f"SELECT {', '.join(self._columns)} FROM videos WHERE path = ?", (path,))
        return _row(rows[0]) if rows else None

    def rows(
        self, where: str = "", params: Iterable[object] = (), limit: int | None = None
    ) -> list[Row]:
        """Rows (optionally filtered by an SQL ``where`` clause), sorted by path."""
        clause = f"WHERE {where}" if where else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        sql = f"SELECT {', '.join(self._columns)} FROM videos {clause} ORDER BY path{tail}"
        return [_row(r) for r in self._query(sql, params)]

    def stat_table(self) -> dict[str, tuple[int | None, int | None, str, str | None, str]]:
        """``path -> (size, mtime_ns, status, fingerprint, source)`` for a fast rescan."""
        rows = self._query("SELECT path, size, mtime_ns, status, fingerprint, source FROM videos")
        return {r[0]: r[1:] for r in rows}

    def counts(self) -> dict[str, int]:
        """Number of rows per status (every status present, 0 when none)."""
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self._query("SELECT status, COUNT(*) FROM videos GROUP BY status"):
            out[status] = int(n)
        return out

    def descriptors(self) -> tuple[list[str], np.ndarray]:
        """Paths and clip descriptors of every indexed row, sorted by path.

        Returns
        -------
        paths : list of str
        descriptors : numpy.ndarray, shape (N, D), float32
        """
        rows = self._query(
            "SELECT path, descriptor FROM videos WHERE status = 'indexed' ORDER BY path"
        )
        if not rows:
            return [], np.zeros((0, 0), np.float32)
        size = len(rows[0][1] or b"")
        for path, blob in rows:
            n = len(blob) if isinstance(blob, bytes) else -1
            if n != size or n < 4 or n % 4:
                raise LibraryCorruptError(
                    f"{path}: its clip descriptor in the catalog is damaged "
                    f"({max(n, 0)} bytes, the others {size}); run 'avr index' to repair it"
                )
        blob = b"".join(r[1] for r in rows)
        desc = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1)
        return [r[0] for r in rows], desc

    def any_indexed_key(self) -> str | None:
        """The feature key of one indexed row (None when nothing is indexed)."""
        rows = self._query(
            "SELECT feature_key FROM videos WHERE status = 'indexed' "
            "AND feature_key IS NOT NULL LIMIT 1"
        )
        return rows[0][0] if rows else None

    def feature_keys(self) -> set[str]:
        """Feature keys referenced by any row."""
        rows = self._query("SELECT DISTINCT feature_key FROM videos WHERE feature_key IS NOT NULL")
        return {r[0] for r in rows}
