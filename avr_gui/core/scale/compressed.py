"""Compressed clip-vector search for large libraries: IVF-PQ, re-ranked exactly.

Past :data:`~avr_gui.core.library.ann.COMPRESSED_LIMIT` clips an exact or HNSW index
keeps every float32 vector in memory (2 GB at a million 512-d clip vectors, plus the
graph). Here the vectors are split into ``nlist`` inverted lists by a k-means coarse
quantizer and each is stored as a product-quantised code of ``D / 8`` bytes (64 bytes
for 512-d vectors: 64 MB per million clips). A query scans the ``nprobe`` nearest
lists by their codes and keeps a shortlist of :data:`SHORTLIST` rows, which are then
scored exactly against the full vectors; those stay on disk, memory-mapped, and only
the shortlisted rows are read. The exact pass gives back what PQ rounding loses:
recall@10 against exact search is measured in ``benchmarks/bench_scale.py``.

Why a flat coarse quantizer and not an HNSW one (``IVF..._HNSW32,PQ``): measured by
``benchmarks/bench_scale.py --compare`` (2 shared cores, load average 9-11, both with
32 probes, 200 queries near library rows). At 1M synthetic clips (1,024 lists): flat
0.972 recall@10, 295 s to build, 36 ms a query; HNSW 0.832, 408 s, 76 ms; 71 MB of
codes either way. At 100k (256 lists): flat 1.000, 55 s; HNSW 0.983, 70 s. The HNSW
graph over the centroids finds the probed lists approximately, which costs recall, and
saves nothing at ``sqrt(N)`` lists, where the flat quantizer's ~0.5 M multiply-adds a
query are negligible; it pays off with tens of thousands of lists, whose k-means a
desktop cannot afford to train. The probes were then raised to one list in 8
(:data:`PROBE_FRACTION`), which brought those near-row queries to 0.9995 at 1M.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import InputError

#: Rows scored exactly per query (at least ``SHORTLIST_FACTOR * k``).
SHORTLIST = 1000
SHORTLIST_FACTOR = 4
#: Inverted lists probed per query: one in :data:`PROBE_FRACTION`, at least
#: :data:`NPROBE_MIN` (all of them when the index has fewer). Measured at 1M synthetic
#: clips (1,024 lists, 200 queries near library rows): every true top-10 neighbour the
#: index missed lay in a list it did not probe (a shortlist of 1,000, 2,000 or 4,000
#: gave the same recall), and the true neighbours' lists ranked within the query's
#: nearest 32 / 64 / 128 lists for 97.2 / 98.9 / 99.95 % of them.
PROBE_FRACTION = 8
NPROBE_MIN = 32
#: k-means iterations of the coarse quantizer (faiss's default is 25; 10 already
#: settles the centroids well enough for the shortlist, and training is the slow part).
KMEANS_ITER = 10
#: Training sample: at most this many vectors per inverted list (and in all).
TRAIN_PER_LIST = 64
TRAIN_MAX = 262_144
#: Vectors added to the index per call (bounds the copy made from a memory map).
ADD_CHUNK = 65_536
#: Bytes of PQ code per 8 dimensions (D / 8 sub-quantizers of 8 bits).
SUBVECTOR_DIM = 8


def n_lists(n: int) -> int:
    """Number of inverted lists for ``n`` vectors: a power of two near ``sqrt(n)``.

    faiss suggests 4-16 sqrt(n) for the fastest queries; every list added costs build
    time (k-means, then assigning each vector), which on a 2-core desktop is what runs
    out first, while a query at sqrt(n) lists still takes milliseconds.

    Parameters
    ----------
    n : int

    Returns
    -------
    int
        In ``[16, 65536]``; 1,024 at a million vectors.
    """
    target = math.sqrt(max(n, 1))
    return int(min(65_536, max(16, 2 ** round(math.log2(target)))))


def n_probes(nlist: int) -> int:
    """Lists probed per query for an index of ``nlist`` lists (128 of 1,024).

    Parameters
    ----------
    nlist : int

    Returns
    -------
    int
    """
    return int(min(nlist, max(NPROBE_MIN, nlist // PROBE_FRACTION)))


def pq_shape(dim: int, n: int) -> tuple[int, int]:
    """Sub-quantizers and bits per code for ``dim``-d vectors, ``n`` of them.

    Parameters
    ----------
    dim : int
    n : int
        Training vectors available: 8-bit codes need ~40 per centroid (256), so a
        small library gets fewer bits instead of empty centroids.

    Returns
    -------
    m : int
        A divisor of ``dim`` near ``dim / SUBVECTOR_DIM``.
    nbits : int
        In ``[4, 8]``.
    """
    want = max(1, dim // SUBVECTOR_DIM)
    m = max(d for d in range(1, want + 1) if dim % d == 0)
    nbits = int(min(8, max(4, math.floor(math.log2(max(n, 16) / 39)))))
    return m, nbits


@dataclass
class CompressedIndex:
    """IVF-PQ over unit clip vectors plus the exact vectors for re-ranking.

    Attributes
    ----------
    index : faiss.IndexIVFPQ
        L2 metric: on unit vectors it orders like inner product, and k-means centroids
        in L2 are what IVF is built for.
    vectors : numpy.ndarray, shape (N, D), float32
        Row ``i`` is the vector with id ``i``; a read-only memory map when loaded, so
        only shortlisted rows are ever read.
    nprobe : int, optional
        Lists probed per query; default :func:`n_probes` of the index's lists.
    shortlist : int
    """

    index: faiss.Index
    vectors: np.ndarray
    nprobe: int | None = None
    shortlist: int = SHORTLIST
    _ivf: faiss.IndexIVF = field(init=False, repr=False)
    _reader: _RowReader | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._ivf = faiss.extract_index_ivf(self.index)
        nlist = int(self._ivf.nlist)
        self.nprobe = min(nlist, self.nprobe or n_probes(nlist))
        self._ivf.nprobe = self.nprobe
        if isinstance(self.vectors, np.memmap) and READ_ROWS and self.vectors.filename:
            self._reader = _RowReader(self.vectors)
        if self.vectors.shape != (self.index.ntotal, self.index.d):
            raise _corrupt(
                f"the compressed index holds {self.index.ntotal} vectors of {self.index.d} "
                f"dimensions, its exact vectors are {self.vectors.shape}"
            )

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        """Vector length D."""
        return int(self.index.d)

    @staticmethod
    def trained(sample: np.ndarray, n_total: int, quantizer: str = "flat") -> faiss.Index:
        """An empty IVF-PQ index trained on ``sample``.

        Parameters
        ----------
        sample : numpy.ndarray, shape (S, D), float32
            Unit vectors drawn from the library (S >= the number of lists).
        n_total : int
            Vectors the index will hold (sets the number of lists and code bits).
        quantizer : {"flat", "hnsw"}
            Coarse quantizer: exact (flat) or an HNSW graph over the centroids.

        Returns
        -------
        faiss.Index
        """
        s = np.ascontiguousarray(sample, dtype=np.float32)
        dim = s.shape[1]
        nlist = min(n_lists(n_total), max(1, s.shape[0] // 4))
        m, nbits = pq_shape(dim, min(n_total, s.shape[0]))
        coarse = "" if quantizer == "flat" else "_HNSW32"
        if quantizer not in ("flat", "hnsw"):
            raise InputError(f"unknown coarse quantizer {quantizer!r}: use 'flat' or 'hnsw'")
        index = faiss.index_factory(dim, f"IVF{nlist}{coarse},PQ{m}x{nbits}", faiss.METRIC_L2)
        ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
        # Seeded k-means: the same library gives the same index.
        ivf.cp.seed = 1234
        ivf.cp.niter = KMEANS_ITER
        ivf.cp.max_points_per_centroid = TRAIN_PER_LIST
        # The factory turns on polysemous training (a code reordering for Hamming
        # filtering, which the exact re-ranking makes useless); it takes minutes.
        ivf.do_polysemous_training = False
        index.train(s)
        return index

    @staticmethod
    def training_rows(n: int, nlist: int | None = None, seed: int = 0) -> np.ndarray:
        """Sorted row ids of the training sample (sorted: a memory map reads forward).

        Parameters
        ----------
        n : int
            Vectors in the library.
        nlist : int, optional
            Lists the index will have (default :func:`n_lists`).
        seed : int

        Returns
        -------
        numpy.ndarray, shape (S,), int64
        """
        want = min(n, TRAIN_MAX, TRAIN_PER_LIST * (nlist or n_lists(n)))
        if want >= n:
            return np.arange(n, dtype=np.int64)
        rows = np.random.default_rng(seed).choice(n, want, replace=False)
        return np.sort(rows).astype(np.int64)

    @classmethod
    def build(cls, vectors: np.ndarray, quantizer: str = "flat") -> CompressedIndex:
        """Train on a sample of ``vectors`` and add all of them (row ``i`` gets id ``i``).

        Parameters
        ----------
        vectors : numpy.ndarray, shape (N, D), float32
            Unit rows; kept by reference (pass a memory map to keep them on disk).
        quantizer : {"flat", "hnsw"}

        Returns
        -------
        CompressedIndex
        """
        if vectors.ndim != 2 or vectors.shape[0] < 2 or vectors.shape[1] == 0:
            raise InputError(f"a compressed index needs [N >= 2, D] vectors, got {vectors.shape}")
        n = vectors.shape[0]
        index = cls.trained(vectors[cls.training_rows(n)], n, quantizer)
        for a in range(0, n, ADD_CHUNK):
            index.add(np.ascontiguousarray(vectors[a : a + ADD_CHUNK], dtype=np.float32))
        return cls(index, vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by exact inner product among the PQ shortlist.

        Parameters
        ----------
        queries : numpy.ndarray, shape (Q, D), float32
            Unit vectors.
        k : int

        Returns
        -------
        D : numpy.ndarray, shape (Q, k'), float32
            Exact inner products, best first (``k' = min(k, size)``); -inf where
            fewer than ``k'`` rows were shortlisted (then ``I`` is -1).
        I : numpy.ndarray, shape (Q, k'), int64
        """
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(int(k), self.size)
        D = np.full((q.shape[0], max(k, 0)), -np.inf, np.float32)
        I = np.full((q.shape[0], max(k, 0)), -1, np.int64)  # noqa: E741 - faiss's naming
        if k <= 0:
            return D, I
        r = min(self.size, max(self.shortlist, SHORTLIST_FACTOR * k))
        _, short = self.index.search(q, r)
        for row, (qv, ids) in enumerate(zip(q, short, strict=True)):
            # Sorted ids read the memory map front to back; -1 marks an unfilled slot.
            ids = np.unique(ids[ids >= 0])
            if not len(ids):
                continue
            rows = self._reader.rows(ids) if self._reader is not None else self.vectors[ids]
            sims = np.asarray(rows, dtype=np.float32) @ qv
            top = np.argsort(-sims, kind="stable")[:k]
            D[row, : len(top)] = sims[top]
            I[row, : len(top)] = ids[top]
        return D, I

    def save(
        self, index_path: str | os.PathLike[str], vectors_path: str | os.PathLike[str]
    ) -> None:
        """Write the index and the exact vectors (each atomically).

        Parameters
        ----------
        index_path : path-like
            The faiss index (``.faiss``).
        vectors_path : path-like
            The vectors, a float32 ``[N, D]`` ``.npy`` (written first: an index file on
            disk always has its vectors).
        """
        with atomic_path(vectors_path, suffix=".npy") as tmp:
            save_vectors(tmp, self.vectors)
        with atomic_path(index_path, suffix=".faiss") as tmp:
            faiss.write_index(self.index, os.fspath(tmp))

    @classmethod
    def load(
        cls, index_path: str | os.PathLike[str], vectors_path: str | os.PathLike[str]
    ) -> CompressedIndex:
        """Read what :meth:`save` wrote; the vectors are memory-mapped, read-only.

        Raises
        ------
        LibraryCorruptError
            A file is missing or unreadable, or the two disagree.
        """
        try:
            index = faiss.read_index(os.fspath(index_path))
        except RuntimeError as exc:
            raise _corrupt(
                f"{index_path}: not a readable search index ({_first_line(exc)})"
            ) from exc
        try:
            vectors = map_vectors(vectors_path)
        except (OSError, ValueError) as exc:
            raise _corrupt(f"{vectors_path}: unreadable clip vectors ({exc})") from exc
        if not isinstance(faiss.try_extract_index_ivf(index), faiss.IndexIVF):
            raise _corrupt(f"{index_path}: not a compressed (IVF) index")
        return cls(index, vectors)


#: Read shortlisted rows with ``preadv`` instead of through the memory map (POSIX).
#: Touching a mapped row maps whole page-cache folios around it (64 KB or more on
#: current Linux): measured at 1M clips, 25 queries' shortlists took the process's
#: resident memory from 32 MB to 1,981 MB, the whole 2 GB file; reading the same rows
#: with ``preadv`` kept it at 39 MB, for 2.7 ms against 1.1 ms per 1,000 rows. The
#: page cache serves both; the map stays for platforms without ``preadv``.
READ_ROWS = hasattr(os, "preadv")


class _RowReader:
    """Rows of a memory-mapped ``.npy`` matrix read by ``preadv`` from the same file."""

    def __init__(self, vectors: np.memmap) -> None:
        self._fd = os.open(os.fspath(vectors.filename), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        weakref.finalize(self, os.close, self._fd)
        self._offset = int(vectors.offset)
        self._dim = int(vectors.shape[1])
        self._row = self._dim * 4

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows ``ids`` (sorted, unique) as a float32 ``[len(ids), D]`` array."""
        out = np.empty((len(ids), self._dim), np.float32)
        buf = memoryview(out).cast("B")
        size = self._row
        for j, i in enumerate(ids.tolist()):
            got = os.preadv(self._fd, [buf[j * size : (j + 1) * size]], self._offset + i * size)
            if got != size:
                raise _corrupt(f"the clip vectors file ended before row {i}")
        return out


def _corrupt(message: str) -> Exception:
    """A :class:`~avr_gui.core.library.errors.LibraryCorruptError`.

    Imported here, not at the top: the library package imports this module (through
    ``ann``), and a module-level import back into it would run half-initialised.
    """
    from avr_gui.core.library.errors import LibraryCorruptError

    return LibraryCorruptError(message)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def save_vectors(path: str | os.PathLike[str], vectors: np.ndarray) -> None:
    """Write ``vectors`` as a float32 ``.npy`` in chunks (a memory map is not loaded whole).

    Parameters
    ----------
    path : path-like
    vectors : numpy.ndarray, shape (N, D)
    """
    out = np.lib.format.open_memmap(
        os.fspath(path), mode="w+", dtype=np.float32, shape=tuple(vectors.shape)
    )
    for a in range(0, vectors.shape[0], ADD_CHUNK):
        out[a : a + ADD_CHUNK] = vectors[a : a + ADD_CHUNK]
    out.flush()
    del out


def map_vectors(path: str | os.PathLike[str]) -> np.ndarray:
    """A read-only memory map of a float32 ``[N, D]`` ``.npy`` written by this module.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    numpy.ndarray, shape (N, D), float32

    Raises
    ------
    OSError, ValueError
        Missing, not a plain C-order float32 matrix, or a size that disagrees.
    """
    p = Path(path)
    arr = np.load(p, mmap_mode="r", allow_pickle=False)
    if arr.dtype != np.float32 or arr.ndim != 2 or not arr.flags.c_contiguous:
        raise ValueError(f"expected a C-order float32 [N, D] array, got {arr.dtype} {arr.shape}")
    return arr
