"""A library's compact copy of its wide appearance features, for fast re-ranking.

EfficientNet-Lite0 gives 1,280 numbers per frame; re-ranking a query builds a cosine
cost matrix per candidate, so its time grows with that width (a query of a 10,000-clip
library: 390 ms at 1,280 dimensions against 100 ms at 256). The frames of one library
span far fewer directions: 256 of them hold 98.8-99.0 % of the frames' energy on the
real clip libraries. So after indexing, a library with a block of at least
:data:`MIN_WIDTH` appearance columns fits a basis of :data:`WIDTH` directions to its
own frames and stores each clip's block projected onto it beside the full features
(which stay: nothing is lost, and a refit needs no decoding). Queries re-rank and align
on the projected copies when every candidate has one, else on the full features.

The basis is the top eigenvectors of the frames' *second moment* (uncentred PCA), not
of their covariance: it keeps the inner products of the raw frames (the per-frame
costs that locate a trimmed query are cosines of raw frames, dominated by the mean
direction) as well as those of contextualized frames (the clip mean is subtracted
there, and projection commutes with that). Fitted on the library's own frames,
unsupervised, as a user's library would be: no labels, no evaluation data.

Measured (``docs/RESULTS.md``, "compact re-ranking"): every real-clip query keeps its
top-1; E1 warp recovery within 0.01 frames (median 0.341 -> 0.348, worst 1.30 -> 0.98).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import ShapeError
from avr_gui.core.features.compact import from_storage
from avr_gui.core.features.layout import alignment_columns
from avr_gui.core.jobs import Cancelled, CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.library.catalog import Catalog
from avr_gui.core.library.errors import LibraryCorruptError
from avr_gui.core.library.store import FeatureStore

log = logging.getLogger(__name__)

#: Directions kept (E1 with 256: as precise as the full width; 128 moved a top-1).
WIDTH = 256
#: Narrower appearance blocks are used as they are (thumb16 has 256 columns).
MIN_WIDTH = 2 * WIDTH
#: A basis needs this many frames (4 per direction) before it is fitted at all.
MIN_FRAMES = 4 * WIDTH
#: Frames a fit reads at most, spread evenly over the library's clips.
SAMPLE_FRAMES = 50_000
#: Refit once the library holds this many times the frames the basis was fitted on.
REFIT_GROWTH = 2.0

FILE_NAME = "projection.npz"


@dataclass(frozen=True)
class Projection:
    """The basis a library's appearance block is projected onto.

    Attributes
    ----------
    basis : numpy.ndarray, shape (w, k), float32
        Orthonormal columns; ``w`` = the block's width.
    start : int
        First projected column; columns before it are kept as they are (the pose block
        of ``auto`` features).
    frames : int
        Frames in the library when it was fitted.
    ident : str
        Content hash; names the projected arrays made with it.
    """

    basis: np.ndarray
    start: int
    frames: int
    ident: str

    @property
    def width(self) -> int:
        """Feature dimensions the projection reads: ``start + w``."""
        return self.start + int(self.basis.shape[0])

    def apply(self, features: np.ndarray) -> np.ndarray:
        """Project frames.

        Parameters
        ----------
        features : numpy.ndarray, shape (T, start + w)

        Returns
        -------
        numpy.ndarray, shape (T, start + k), float32, C-contiguous
        """
        f = from_storage(features)
        if f.ndim != 2 or f.shape[1] != self.width:
            raise ShapeError(f"features of shape {f.shape} do not fit a {self.width}-d projection")
        out = np.empty((f.shape[0], self.start + self.basis.shape[1]), np.float32)
        out[:, : self.start] = f[:, : self.start]
        np.matmul(f[:, self.start :], self.basis, out=out[:, self.start :])
        return out


def block_start(encoder_name: str | None, dim: int) -> int | None:
    """First column of the block a library projects, or None when it projects nothing.

    Parameters
    ----------
    encoder_name : str or None
    dim : int
        Stored feature dimensions.
    """
    cols = alignment_columns(encoder_name)
    start = 0 if cols is None else int(cols.start or 0)
    return start if dim - start >= MIN_WIDTH else None


def fit_projection(
    arrays: Sequence[np.ndarray], start: int, *, width: int = WIDTH, seed: int = 0
) -> Projection:
    """Fit the basis to a library's frames.

    Parameters
    ----------
    arrays : sequence of numpy.ndarray, each shape (T_k, d)
        Stored features of the library's clips (float16 memory maps are fine).
    start : int
        First column of the block to project.
    width : int
        Directions kept (at most the block's width).
    seed : int
        Which frames a library larger than :data:`SAMPLE_FRAMES` lends the fit.

    Returns
    -------
    Projection
    """
    total = sum(len(a) for a in arrays)
    if total == 0:
        raise ShapeError("no frames to fit a projection to")
    w = int(arrays[0].shape[1]) - start
    k = min(width, w)
    rng = np.random.default_rng(seed)
    keep = min(1.0, SAMPLE_FRAMES / total)
    gram = np.zeros((w, w), np.float64)
    for a in arrays:
        x = np.asarray(a)
        if keep < 1.0:
            n = int(rng.binomial(len(x), keep))
            if n == 0:
                continue
            x = x[np.sort(rng.choice(len(x), size=n, replace=False))]
        block = from_storage(x[:, start:]).astype(np.float64)
        gram += block.T @ block
    if not np.isfinite(gram).all():
        raise ValueError("the stored features hold non-finite numbers")
    _, vecs = np.linalg.eigh(gram)
    basis = np.ascontiguousarray(vecs[:, ::-1][:, :k], dtype=np.float32)
    # Eigenvectors are defined up to sign: fix it (largest entry positive) so that the
    # same frames always give the same basis and the same ident.
    flip = np.sign(basis[np.argmax(np.abs(basis), axis=0), np.arange(k)])
    basis *= np.where(flip == 0, 1, flip).astype(np.float32)
    ident = hashlib.blake2b(basis.tobytes() + start.to_bytes(4, "little"), digest_size=8)
    return Projection(basis, start, total, ident.hexdigest())


def save_projection(path: Path, proj: Projection) -> None:
    """Write ``proj`` atomically (npz, no pickles)."""
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            basis=proj.basis,
            start=np.int64(proj.start),
            frames=np.int64(proj.frames),
            ident=np.array(proj.ident),
        )


def load_projection(path: Path) -> Projection | None:
    """The saved projection, or None when there is none or it is damaged (logged)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            basis = np.ascontiguousarray(data["basis"], dtype=np.float32)
            start, frames = int(data["start"]), int(data["frames"])
            ident = str(data["ident"])
    except Exception as exc:  # a damaged file means "no projection": queries use full features
        log.warning("%s is damaged (%s): queries use the full features", path, exc)
        return None
    if basis.ndim != 2 or not 0 < basis.shape[1] <= basis.shape[0] or start < 0:
        log.warning("%s has a basis of shape %s: ignored", path, basis.shape)
        return None
    if not np.isfinite(basis).all() or not ident.isalnum():
        log.warning("%s holds non-finite numbers or a bad name: ignored", path)
        return None
    return Projection(basis, start, frames, ident)


def needs_refit(proj: Projection | None, frames: int, start: int, dim: int) -> bool:
    """Whether a library of ``frames`` frames should fit (again)."""
    if frames < MIN_FRAMES:
        return False
    if proj is None or proj.start != start or proj.width != dim:
        return True
    return frames >= REFIT_GROWTH * max(proj.frames, 1)


def update_projection(
    catalog: Catalog,
    store: FeatureStore,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Projection | None:
    """Bring a library's compact copies up to date (a writer's step, after indexing).

    Fits the basis when the library first has :data:`MIN_FRAMES` frames of a wide
    enough block, and again once it has grown :data:`REFIT_GROWTH`-fold; writes the
    compact copy of every indexed clip that lacks one; after a refit deletes the copies
    of the basis it replaced (an index run's garbage collection also removes copies of
    any basis but the current one: ``FeatureStore.collect_garbage``).
    Order for a crash at any point: new copies, then the basis file, then the old
    copies are deleted, so the saved basis always has its copies (or the clips without
    one are re-ranked on their full features until the next run).

    Parameters
    ----------
    catalog : Catalog
    store : FeatureStore
    progress, cancel
        See :mod:`avr_gui.core.jobs`. A cancel stops this step only; the library stays
        consistent and queries use the full features where a copy is missing.

    Returns
    -------
    Projection or None
        The basis in use after the step.
    """
    path = store.root / FILE_NAME
    saved = load_projection(path)
    # Decided from one clip first: most libraries (narrow features) stop here, at the
    # cost of one query and one header read per index run.
    first = catalog.any_indexed_key()
    try:
        dim = store.shape(first)[1] if first is not None else None
    except LibraryCorruptError:
        return saved  # the next index run repairs that clip
    start = None if dim is None else block_start(catalog.get_meta("encoder"), dim)
    if start is None or dim is None:
        if saved is not None:
            path.unlink(missing_ok=True)
            store.drop_projected(None)
        return None
    # Frame counts from the catalog (the verify phase has checked them against the
    # stored headers); every indexed clip of a library has the library's width.
    frames_of: dict[str, int] = {}
    for row in catalog.rows("status = 'indexed'"):
        if row.feature_key:
            frames_of[row.feature_key] = int(row.n_features)
    shapes = {k: (t, dim) for k, t in frames_of.items()}
    frames = sum(frames_of.values())
    proj = saved
    try:
        if needs_refit(saved, frames, start, dim):
            progress(0, len(shapes), "fitting the compact features")
            proj = fit_projection([store.read(k).features for k in sorted(shapes)], start)
        if proj is None:
            return None
        want = (proj.start + proj.basis.shape[1],)
        for done, (key, (t, _)) in enumerate(sorted(shapes.items())):
            check(cancel)
            if store.projected_shape(key, proj.ident) != (t, *want):
                store.write_projected(key, proj.ident, proj.apply(store.read(key).features))
            progress(done + 1, len(shapes), "compact features")
    except Cancelled:
        log.info("compact features: cancelled; the next index run completes them")
        return saved
    except (OSError, ValueError, np.linalg.LinAlgError, LibraryCorruptError) as exc:
        # Never a reason for an index run to fail: queries use the full features.
        log.warning("compact features not updated (%s); queries use the full features", exc)
        return saved
    if proj is not saved:
        save_projection(path, proj)
        store.drop_projected(proj.ident)  # copies of the basis it replaced
    return proj
