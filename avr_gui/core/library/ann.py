"""Clip-vector search with faiss: exact while small, HNSW past a size, compressed past another.

Vectors are unit length (standardised clip descriptors), so inner product is cosine
similarity. Up to :data:`EXACT_LIMIT` clips an exact ``IndexFlatIP`` answers in a few
milliseconds; past it an HNSW graph keeps queries fast; past :data:`COMPRESSED_LIMIT`
the vectors no longer belong in memory and an IVF-PQ index with exact re-scoring of
its shortlist takes over (:mod:`avr_gui.core.scale.compressed`).
:func:`recall_vs_exact` measures what each costs in recall.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import InputError
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.scale.compressed import CompressedIndex, map_vectors

#: Largest library searched exactly (``kind="auto"``).
EXACT_LIMIT = 100_000
#: Largest library kept in an HNSW graph (``kind="auto"``); past it, ``"ivfpq"``. The
#: graph holds every float32 vector in memory: 512 MB at 250,000 512-d clip vectors.
COMPRESSED_LIMIT = 250_000
#: HNSW graph degree and search breadth: measured recall in docs/library.md.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256


@dataclass
class ClipIndex:
    """A faiss index over clip vectors.

    Attributes
    ----------
    index : faiss.Index
    kind : str
        ``"exact"``, ``"hnsw"`` or ``"ivfpq"``.
    compressed : CompressedIndex, optional
        For ``"ivfpq"``: the index with its exact vectors (``index`` is its faiss index).
    """

    index: faiss.Index
    kind: str
    compressed: CompressedIndex | None = None

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.index.ntotal)

    @classmethod
    def build(
        cls, vectors: np.ndarray, kind: str = "auto", *, compressed_limit: int | None = None
    ) -> ClipIndex:
        """Index ``vectors`` (row ``i`` gets id ``i``).

        Parameters
        ----------
        vectors : numpy.ndarray, shape (N, D), float32
            Unit-length rows. For ``"ivfpq"`` they are kept by reference (the exact
            re-scoring reads them): pass a memory map to keep them out of memory.
        kind : {"auto", "exact", "hnsw", "ivfpq"}
            ``"auto"``: exact up to :data:`EXACT_LIMIT` vectors, HNSW up to
            ``compressed_limit``, IVF-PQ beyond.
        compressed_limit : int, optional
            Default :data:`COMPRESSED_LIMIT`.

        Returns
        -------
        ClipIndex
        """
        if not isinstance(vectors, np.ndarray):
            vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise InputError(f"clip vectors must be [N, D], got shape {vectors.shape}")
        limit = COMPRESSED_LIMIT if compressed_limit is None else int(compressed_limit)
        if kind == "auto":
            n = vectors.shape[0]
            kind = "exact" if n <= min(EXACT_LIMIT, limit) else "hnsw" if n <= limit else "ivfpq"
        if kind == "ivfpq":
            if vectors.dtype != np.float32 or not vectors.flags.c_contiguous:
                vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            ci = CompressedIndex.build(vectors)
            return cls(ci.index, "ivfpq", ci)
        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if kind == "exact":
            index = faiss.IndexFlatIP(v.shape[1])
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(v.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise InputError(f"unknown index kind {kind!r}: use 'auto', 'exact', 'hnsw' or 'ivfpq'")
        if v.shape[0]:
            index.add(v)
        return cls(index, kind)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` neighbours by inner product.

        Parameters
        ----------
        queries : numpy.ndarray, shape (Q, D), float32
        k : int

        Returns
        -------
        D : numpy.ndarray, shape (Q, k'), float32
            Similarities, best first (``k' = min(k, size)``).
        I : numpy.ndarray, shape (Q, k'), int64
            Row ids of the indexed vectors.
        """
        if self.compressed is not None:
            return self.compressed.search(queries, k)
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(int(k), self.size)
        if k <= 0:
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        if self.kind == "exact" and q.shape[0] <= EXACT_BLAS_QUERIES:
            return _exact_top_k(_stored_vectors(self.index), q, k)
        D, I = self.index.search(q, k)  # noqa: E741 - faiss's own naming
        return D, I.astype(np.int64)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index atomically (``"ivfpq"``: its vectors too, see :func:`vectors_path`)."""
        if self.compressed is not None:
            self.compressed.save(path, vectors_path(path))
            return
        with atomic_path(path, suffix=".faiss") as tmp:
            faiss.write_index(self.index, os.fspath(tmp))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ClipIndex:
        """Read an index written by :meth:`save`."""
        p = Path(path)
        try:
            index = faiss.read_index(os.fspath(p))
        except RuntimeError as exc:
            raise LibraryCorruptError(f"{p}: not a readable search index ({exc})") from exc
        if isinstance(faiss.try_extract_index_ivf(index), faiss.IndexIVF):
            try:
                ci = CompressedIndex(index, map_vectors(vectors_path(p)))
            except (OSError, ValueError) as exc:
                raise LibraryCorruptError(f"{p}: its clip vectors are unreadable ({exc})") from exc
            return cls(ci.index, "ivfpq", ci)
        kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "exact"
        if kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)


#: Exact searches of up to this many queries at once run as one BLAS product (see
#: :func:`_exact_top_k`); larger batches go to faiss, which is built for them.
EXACT_BLAS_QUERIES = 8


def _stored_vectors(index: faiss.Index) -> np.ndarray:
    """The ``[N, D]`` float32 rows a flat faiss index holds, as a view (no copy)."""
    n, d = int(index.ntotal), int(index.d)
    return faiss.rev_swig_ptr(faiss.downcast_index(index).get_xb(), n * d).reshape(n, d)


def _exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Exact top-``k`` inner products of a few queries against every stored vector.

    faiss answers one query on a flat index with a single-threaded scan: 47 ms per query
    at 100,000 512-d vectors on the 2-core machine, a quarter of a whole library query.
    One BLAS product on every core, then a partial sort, answers the same in about a
    fifth of that (docs/RESULTS.md, issue 16).

    Parameters
    ----------
    vectors : numpy.ndarray, shape (N, D), float32
    queries : numpy.ndarray, shape (Q, D), float32
    k : int
        At most N.

    Returns
    -------
    D : numpy.ndarray, shape (Q, k), float32
        Similarities, best first; ties in ascending row id.
    I : numpy.ndarray, shape (Q, k), int64
    """
    sims = queries @ vectors.T
    n = sims.shape[1]
    top = (
        np.argpartition(-sims, k - 1, axis=1)[:, :k]
        if k < n
        else np.tile(np.arange(n), (len(sims), 1))
    )
    D = np.empty((len(sims), k), np.float32)
    I = np.empty((len(sims), k), np.int64)  # noqa: E741 - faiss's naming, as above
    for r in range(len(sims)):
        cand = top[r]
        s = sims[r, cand]
        order = np.lexsort((cand, -s))
        D[r], I[r] = s[order], cand[order]
    return D, I


def vectors_path(index_path: str | os.PathLike[str]) -> Path:
    """Where :meth:`ClipIndex.save` puts the exact vectors of an ``"ivfpq"`` index."""
    p = Path(index_path)
    return p.with_name(p.name + ".vectors.npy")


def recall_vs_exact(index: ClipIndex, vectors: np.ndarray, queries: np.ndarray, k: int) -> float:
    """Share of the exact top-``k`` neighbours that ``index`` also returns.

    Parameters
    ----------
    index : ClipIndex
        The index under test, built on ``vectors``.
    vectors : numpy.ndarray, shape (N, D)
    queries : numpy.ndarray, shape (Q, D)
    k : int

    Returns
    -------
    float
        Mean over queries of ``|approx top-k ∩ exact top-k| / k``, in [0, 1].
    """
    _, exact = ClipIndex.build(vectors, "exact").search(queries, k)
    _, approx = index.search(queries, k)
    hits = [len(set(a) & set(e)) for a, e in zip(approx, exact, strict=True)]
    return float(np.sum(hits) / exact.size) if exact.size else 1.0
