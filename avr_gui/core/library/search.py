"""Clip retrieval over a library: standardised descriptors in a faiss index.

Built from the catalog's descriptors whenever the set of indexed clips changes (the
catalog's ``generation``). Exact indexes are rebuilt in memory (adding 100,000 vectors
to a flat index takes milliseconds); an HNSW graph is costly to build, so it is saved
beside the catalog with the generation it was built for and reused while that holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.align.banknorm import DEFAULT_TEMPERATURE, bank_log_mass, normalize
from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import DimensionMismatchError
from avr_gui.core.library.ann import ClipIndex
from avr_gui.core.library.catalog import Catalog
from avr_gui.core.library.descriptor import Standardizer
from avr_gui.core.library.errors import LibraryCorruptError

# Bank-normalised retrieval (the column step of UCoFiA's Sinkhorn with the library as
# query bank): E2 recall@1 0.913 -> 0.933, E3 clip top-1 5/9 -> 6/9 (docs/RESULTS.md).
BANK = 1024  # bank clips: masses cost N x BANK dot products once per catalog change
MIN_BANK = 8
POOL = 200  # cosine candidates re-ordered by the normalised similarity


@dataclass
class SearchIndex:
    """Retrieval state for one catalog generation.

    Attributes
    ----------
    generation : int
    paths : list of str
        Path of each indexed vector (row id = position).
    standardizer : Standardizer
    index : ClipIndex
    log_mass : numpy.ndarray, shape (N,), optional
        Each clip's similarity mass over the bank (:mod:`avr_gui.core.align.banknorm`);
        None: rank by plain cosine.
    """

    generation: int
    paths: list[str]
    standardizer: Standardizer
    index: ClipIndex
    log_mass: np.ndarray | None = None

    @property
    def dim(self) -> int:
        """Descriptor length (0 for an empty library)."""
        return int(self.index.index.d) if self.paths else 0

    @classmethod
    def build(
        cls, catalog: Catalog, folder: Path, kind: str = "auto", *, save: bool = True
    ) -> SearchIndex:
        """Index the catalog's descriptors (reusing a saved HNSW graph when current).

        Parameters
        ----------
        catalog : Catalog
        folder : pathlib.Path
            Where an HNSW graph is saved (``clips.faiss`` + ``clips.npz``).
        kind : {"auto", "exact", "hnsw"}
        save : bool
            Save a newly built HNSW graph (False for a read-only library: it is built
            in memory for this session).

        Returns
        -------
        SearchIndex
        """
        generation = catalog.generation
        paths, desc = catalog.descriptors()
        std = Standardizer(desc) if paths else Standardizer(np.zeros((0, 1), np.float32))
        if not paths:
            return cls(generation, [], std, ClipIndex.build(np.zeros((0, 1), np.float32), "exact"))
        vectors = std.transform(desc)
        mass = _log_mass(vectors)
        saved = _load_saved(folder, generation, len(paths))
        if saved is not None and kind in ("auto", saved.kind):
            return cls(generation, paths, std, saved, mass)
        index = ClipIndex.build(vectors, kind)
        if index.kind == "hnsw" and save:
            index.save(folder / "clips.faiss")
            with atomic_path(folder / "clips.npz", suffix=".npz") as tmp, open(tmp, "wb") as fh:
                np.savez(fh, generation=np.int64(generation), size=np.int64(len(paths)))
        return cls(generation, paths, std, index, mass)

    def search(
        self, descriptor: np.ndarray, k: int, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` most similar clips, best first.

        Parameters
        ----------
        descriptor : numpy.ndarray, shape (D,)
            Raw clip descriptor of the query.
        k : int
        exclude : str, optional
            A path left out of the results (the query's own file).

        Returns
        -------
        list of (path, cosine similarity)
            Ordered by bank-normalised similarity when the index has bank masses: the
            cosine's top ``POOL`` (at least 4 k) are re-ordered, which demotes "hub"
            clips that are close to everything.
        """
        if not self.paths:
            return []
        d = np.asarray(descriptor, np.float32).reshape(1, -1)
        if d.shape[1] != self.dim:
            raise DimensionMismatchError(
                f"the query's clip descriptor has {d.shape[1]} numbers but the library's "
                f"have {self.dim}: query and library must come from the same encoder"
            )
        extra = 1 if exclude is not None else 0
        pool = k + extra if self.log_mass is None else max(POOL, 4 * k) + extra
        D, I = self.index.search(self.standardizer.transform(d), pool)  # noqa: E741
        keep = I[0] >= 0
        sims, ids = D[0][keep].astype(np.float64), I[0][keep]
        if self.log_mass is not None:
            order = np.argsort(-normalize(sims, self.log_mass[ids]), kind="stable")
            sims, ids = sims[order], ids[order]
        out = [(self.paths[i], float(s)) for s, i in zip(sims, ids, strict=True)]
        return [r for r in out if r[0] != exclude][:k]


def _log_mass(vectors: np.ndarray) -> np.ndarray | None:
    """Bank masses with a seeded sample of at most ``BANK`` library clips as the bank."""
    n = len(vectors)
    if n < MIN_BANK:
        return None  # too few clips for the bank to say who is a hub
    if n <= BANK:
        return bank_log_mass(vectors, vectors, exclude_self=True)
    rows = np.sort(np.random.default_rng(0).choice(n, BANK, replace=False))
    mass = bank_log_mass(vectors[rows], vectors)
    # Clips in the bank must not count their similarity to themselves.
    t = DEFAULT_TEMPERATURE
    own = np.einsum("ij,ij->i", vectors[rows], vectors[rows]).astype(np.float64) / t
    mass[rows] = mass[rows] + np.log1p(-np.minimum(np.exp(own - mass[rows]), 1 - 1e-12))
    return mass


def _load_saved(folder: Path, generation: int, size: int) -> ClipIndex | None:
    graph, stamp = folder / "clips.faiss", folder / "clips.npz"
    if not (graph.is_file() and stamp.is_file()):
        return None
    try:
        with np.load(stamp, allow_pickle=False) as d:
            if int(d["generation"]) != generation or int(d["size"]) != size:
                return None
        index = ClipIndex.load(graph)
    except (OSError, KeyError, ValueError, LibraryCorruptError):
        return None  # stale or damaged: rebuilt by the caller
    return index if index.size == size else None


def remove_saved(folder: str | os.PathLike[str]) -> None:
    """Delete a saved graph (after a re-index with another encoder)."""
    for name in ("clips.faiss", "clips.npz"):
        p = Path(folder) / name
        if p.exists():
            p.unlink()
