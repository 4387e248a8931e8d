"""Clip-vector search with faiss: exact inner product while small, HNSW past a size.

Vectors are unit length (standardised clip descriptors), so inner product is cosine
similarity. Up to :data:`EXACT_LIMIT` clips an exact ``IndexFlatIP`` answers in a few
milliseconds; past it an HNSW graph keeps queries fast, and :func:`recall_vs_exact`
measures what that costs in recall.
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

#: Largest library searched exactly (``kind="auto"``).
EXACT_LIMIT = 100_000
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
        ``"exact"`` or ``"hnsw"``.
    """

    index: faiss.Index
    kind: str

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> ClipIndex:
        """Index ``vectors`` (row ``i`` gets id ``i``).

        Parameters
        ----------
        vectors : numpy.ndarray, shape (N, D), float32
            Unit-length rows.
        kind : {"auto", "exact", "hnsw"}
            ``"auto"``: exact up to :data:`EXACT_LIMIT` vectors, HNSW beyond.

        Returns
        -------
        ClipIndex
        """
        v = np.ascontiguousarray(vectors, dtype=np.float32)
        if v.ndim != 2 or v.shape[1] == 0:
            raise InputError(f"clip vectors must be [N, D], got shape {v.shape}")
        if kind == "auto":
            kind = "exact" if v.shape[0] <= EXACT_LIMIT else "hnsw"
        if kind == "exact":
            index = faiss.IndexFlatIP(v.shape[1])
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(v.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise InputError(f"unknown index kind {kind!r}: use 'auto', 'exact' or 'hnsw'")
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
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(int(k), self.size)
        if k <= 0:
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        D, I = self.index.search(q, k)  # noqa: E741 - faiss's own naming
        return D, I.astype(np.int64)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index atomically."""
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
        kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "exact"
        if kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)


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
