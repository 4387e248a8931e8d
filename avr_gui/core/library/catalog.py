"""The library catalog: one SQLite database (WAL) listing every video and its state.

Every change is one transaction, so a process killed at any moment leaves the catalog
as it was before or after that change. Rows are kept free of clocks and run order
(no "indexed at" times, no auto-numbered keys that callers rely on), so two runs over
the same files produce the same catalog however often they were interrupted.

Schema history: version 2 added ``has_person`` (pose libraries); a version-1 catalog is
migrated in place when opened (the column starts NULL: not known).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

from avr_gui.core.library.errors import LibraryCorruptError

SCHEMA_VERSION = 2
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
    has_person INTEGER
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


def _row(values: tuple) -> Row:
    # SQLite hands booleans back as 0 / 1.
    flag = values[-1]
    return Row(*values[:-1], None if flag is None else bool(flag))


_COLUMNS = tuple(f.name for f in fields(Row))
_INSERT = (
    f"INSERT OR REPLACE INTO videos ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


class Catalog:
    """The SQLite catalog of one library; safe to share between threads.

    Parameters
    ----------
    path : path-like
        Database file (created if missing).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(
                os.fspath(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a killed process intact; only a power cut may
            # lose the last commits (never corrupt them).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LibraryCorruptError(
                f"{self.path}: not a library catalog ({exc}); move it away to start afresh"
            ) from exc
        self._lock = threading.RLock()
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif version == "1":
            self._migrate_from_1()
        elif version != str(SCHEMA_VERSION):
            raise LibraryCorruptError(
                f"{self.path}: catalog schema {version}, this program reads {SCHEMA_VERSION}"
            )

    def _migrate_from_1(self) -> None:
        """Version 1 -> 2: add ``has_person`` (NULL for every existing row)."""
        with self.transaction() as tx:
            # Another process may have migrated between our read and this transaction.
            got = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if got is not None and got[0] == "1":
                cols = {r[1] for r in tx.execute("PRAGMA table_info(videos)")}
                if "has_person" not in cols:
                    tx.execute("ALTER TABLE videos ADD COLUMN has_person INTEGER")
                self.set_meta("schema_version", str(SCHEMA_VERSION), tx)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: commits on success, rolls back on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

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
        rows = self._query(f"SELECT {', '.join(_COLUMNS)} FROM videos WHERE path = ?", (path,))
        return _row(rows[0]) if rows else None

    def rows(
        self, where: str = "", params: Iterable[object] = (), limit: int | None = None
    ) -> list[Row]:
        """Rows (optionally filtered by an SQL ``where`` clause), sorted by path."""
        clause = f"WHERE {where}" if where else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM videos {clause} ORDER BY path{tail}"
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
        blob = b"".join(r[1] for r in rows)
        desc = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1)
        return [r[0] for r in rows], desc

    def feature_keys(self) -> set[str]:
        """Feature keys referenced by any row."""
        rows = self._query("SELECT DISTINCT feature_key FROM videos WHERE feature_key IS NOT NULL")
        return {r[0] for r in rows}
