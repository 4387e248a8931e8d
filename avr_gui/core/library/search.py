"""Clip retrieval over a library: standardised descriptors in a faiss index.

Built from the catalog's descriptors whenever the set of indexed clips changes (the
catalog's ``generation``). Exact indexes are rebuilt in memory (adding 100,000 vectors
to a flat index takes milliseconds); an HNSW graph is costly to build, so it is saved
beside the catalog with the generation it was built for and reused while that holds.

Past :data:`~avr_gui.core.library.ann.COMPRESSED_LIMIT` clips the index is compressed
(IVF-PQ, :mod:`avr_gui.core.scale.compressed`) and lives on disk with everything a
query needs (standardiser, bank masses, paths, the exact vectors, memory-mapped), in
``clips.scale/`` (:mod:`avr_gui.core.scale.saved`), so opening a million-clip library
never reads the catalog's descriptors. After a catalog change it is rebuilt in a
background thread (:mod:`avr_gui.core.library.search_build`), streaming the
descriptors from a read snapshot of the catalog; until the new build is published,
queries are answered from the previous one (clips added since are not found yet,
removed ones are skipped by the caller). Only a library with no previous build waits
for the first one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import avr_gui.core.library.ann as ann
from avr_gui.core.align.banknorm import DEFAULT_TEMPERATURE, bank_log_mass, normalize
from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import DimensionMismatchError
from avr_gui.core.library.ann import ClipIndex
from avr_gui.core.library.catalog import Catalog
from avr_gui.core.library.descriptor import Standardizer
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.library.search_build import (
    build_compressed,
    build_in_background,
    folder_state,
)

# Imported from here by callers (the build side lives in search_build).
from avr_gui.core.library.search_build import wait_for_build as wait_for_build

# Bank-normalised retrieval (the column step of UCoFiA's Sinkhorn with the library as
# query bank): E2 recall@1 0.913 -> 0.933, E3 clip top-1 5/9 -> 6/9 (docs/RESULTS.md).
BANK = 1024  # bank clips: masses cost N x BANK dot products once per catalog change
MIN_BANK = 8
POOL = 200  # cosine candidates re-ordered by the normalised similarity

log = logging.getLogger(__name__)


@dataclass
class SearchIndex:
    """Retrieval state for one catalog generation.

    Attributes
    ----------
    generation : int
        The catalog generation indexed; older than the catalog's while a compressed
        index is rebuilt in the background (the previous build answers meanwhile).
    paths : sequence of str
        Path of each indexed vector (row id = position); a list, or for a compressed
        index a :class:`~avr_gui.core.scale.saved.PathList` read from disk on demand.
    standardizer : Standardizer
    index : ClipIndex
    log_mass : numpy.ndarray, shape (N,), optional
        Each clip's similarity mass over the bank (:mod:`avr_gui.core.align.banknorm`);
        None: rank by plain cosine.
    """

    generation: int
    paths: Sequence[str]
    standardizer: Standardizer
    index: ClipIndex
    log_mass: np.ndarray | None = None
    _keep: object = field(default=None, repr=False, compare=False)

    @property
    def dim(self) -> int:
        """Descriptor length (0 for an empty library)."""
        return int(self.index.index.d) if self.paths else 0

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        folder: Path,
        kind: str = "auto",
        *,
        save: bool = True,
        background: bool = True,
        compressed_limit: int | None = None,
    ) -> SearchIndex:
        """Index the catalog's descriptors (reusing a saved graph or build when current).

        Parameters
        ----------
        catalog : Catalog
        folder : pathlib.Path
            Where an HNSW graph is saved (``clips.faiss`` + ``clips.npz``), and a
            compressed index (``clips.scale/``).
        kind : {"auto", "exact", "hnsw", "ivfpq"}
            ``"auto"``: by size (:meth:`ClipIndex.build`).
        save : bool
            Save a newly built HNSW graph or compressed index (False for a read-only
            library: it is built for this session, a compressed one in a temporary
            folder, and waited for).
        background : bool
            Rebuild a compressed index in a background thread while the previous build
            answers (False: wait for it).
        compressed_limit : int, optional
            Clips past which the index is compressed; default
            :data:`~avr_gui.core.library.ann.COMPRESSED_LIMIT`.

        Returns
        -------
        SearchIndex
            Possibly of an older generation than the catalog's while a compressed
            index is rebuilt (callers that cache it by generation ask again).
        """
        generation = catalog.generation
        limit = ann.COMPRESSED_LIMIT if compressed_limit is None else int(compressed_limit)
        if kind in ("auto", "ivfpq"):
            scaled = _scaled(catalog, folder, generation, kind, limit, save, background)
            if scaled is not None:
                return scaled
        paths, desc = catalog.descriptors()
        std = Standardizer(desc) if paths else Standardizer(np.zeros((0, 1), np.float32))
        if not paths:
            return cls(generation, [], std, ClipIndex.build(np.zeros((0, 1), np.float32), "exact"))
        vectors = std.transform(desc)
        mass = _log_mass(vectors)
        saved = _load_saved(folder, generation, len(paths))
        if saved is not None and kind in ("auto", saved.kind):
            return cls(generation, paths, std, saved, mass)
        index = ClipIndex.build(vectors, kind, compressed_limit=limit)
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
    """Delete a saved graph and compressed index (after a re-index with another encoder)."""
    from avr_gui.core.scale import saved

    for name in ("clips.faiss", "clips.npz"):
        p = Path(folder) / name
        if p.exists():
            p.unlink()
    state = folder_state(Path(folder))
    with state.lock:
        state.serving = None
    saved.remove_all(Path(folder) / saved.SCALE_DIR)


# -- compressed index: saved builds, background rebuilds --------------------------------


def _from_bundle(bundle: object, keep: object = None) -> SearchIndex:
    from avr_gui.core.scale.saved import Bundle

    assert isinstance(bundle, Bundle)
    index = ClipIndex(bundle.index.index, "ivfpq", bundle.index)
    return SearchIndex(
        bundle.generation, bundle.paths, bundle.standardizer, index, bundle.log_mass, keep
    )


def load_current(folder: Path) -> SearchIndex | None:
    """The published compressed index of a library folder, whatever its generation.

    Parameters
    ----------
    folder : pathlib.Path
        The library's index folder.

    Returns
    -------
    SearchIndex or None
        None when there is none (or it is damaged).
    """
    from avr_gui.core.scale import saved

    bundle = saved.load(Path(folder) / saved.SCALE_DIR)
    return None if bundle is None else _from_bundle(bundle)


def _indexed_count(catalog: Catalog) -> int:
    # The status column is indexed: this does not read the descriptors.
    return int(catalog.counts()["indexed"])


def _scaled(
    catalog: Catalog,
    folder: Path,
    generation: int,
    kind: str,
    limit: int,
    save: bool,
    background: bool,
) -> SearchIndex | None:
    """The compressed index for ``generation``, or None when the library is below ``limit``."""
    from avr_gui.core.scale import saved

    state = folder_state(folder)
    with state.lock:
        serving, running = state.serving, state.thread is not None and state.thread.is_alive()
        building = state.building
    if save and running and building >= generation and serving is not None and background:
        return serving  # the common case while a rebuild runs: no disk, no catalog
    current = load_current(folder)
    if current is not None and current.generation == generation:
        with state.lock:
            state.serving = None
        return current
    n = _indexed_count(catalog)
    if n < 2 or (kind == "auto" and n <= limit):
        return None
    if not save:
        return _build_private(catalog)
    with state.lock:
        if state.failed == generation and state.error is not None and current is not None:
            log.warning("serving the previous search index: the rebuild failed (%s)", state.error)
            return current
        if not (state.thread is not None and state.thread.is_alive()):
            state.building, state.error = generation, None
            state.thread = threading.Thread(
                target=build_in_background,
                args=(catalog.path, folder, state, _log_mass),
                name=f"avr-search-build {folder}",
                daemon=True,
            )
            state.thread.start()
        thread = state.thread
        if current is not None and background:
            state.serving = current
            return current
    thread.join()
    with state.lock:
        error = state.error
    if error is not None:
        raise error
    fresh = saved.load(folder / saved.SCALE_DIR)
    if fresh is None:
        raise saved_missing(folder)
    return _from_bundle(fresh)


def saved_missing(folder: Path) -> Exception:
    """The error of a build that finished without leaving a readable index."""
    from avr_gui.core.library.errors import LibraryCorruptError

    return LibraryCorruptError(f"{folder}: the compressed search index could not be read back")


def _build_private(catalog: Catalog) -> SearchIndex:
    """A compressed index for this session only (read-only library), in a temporary folder."""
    import shutil
    import tempfile
    import weakref

    from avr_gui.core.scale import saved

    tmp = Path(tempfile.mkdtemp(prefix="avr-search-"))
    try:
        build_compressed(catalog.path, tmp, _log_mass)
        bundle = saved.load(tmp / saved.SCALE_DIR)
        if bundle is None:
            raise saved_missing(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    holder = _TempFolder(tmp)
    weakref.finalize(holder, shutil.rmtree, tmp, True)
    return _from_bundle(bundle, holder)


class _TempFolder:
    """Keeps a temporary build alive as long as the search index that reads it."""

    def __init__(self, path: Path) -> None:
        self.path = path
