"""Multiscale DTW: long clips aligned in memory that grows with n + m, not n * m.

Exact DTW needs an ``n x m`` direction matrix (one byte per cell) and, from features,
an ``n x m`` float32 cost matrix: two 1-hour clips at 10 fps (36,000 frames each) need
1.3 GB and 5.2 GB. Past :data:`MULTISCALE_CELLS` cells the alignment is instead found
coarse to fine:

1. the sequences (or the cost matrix) are average-pooled by 2, 4, 8, ... until the
   pooled matrix has at most :data:`BASE_CELLS` cells, which is aligned exactly;
2. each finer level is aligned exactly inside a band around the projection of the
   coarser path, dilated by :data:`RADIUS` cells in both directions (and widened on
   the far side where an edge of the matrix clips it).

Costs are only ever computed inside the band, a block of rows at a time, so memory is
O((n + m) * RADIUS) bytes for the directions plus a fixed block of costs. Pooling unit
feature rows by their mean makes a coarse cost exactly the mean of the fine costs of
its block (the dot product is bilinear), so the coarse path sees what the fine one will.

The result is exact wherever the optimal path stays within ``RADIUS`` cells of the
projected coarse path, which holds for related clips (warps, pauses, speed changes);
its cost is always the exact cost of a valid path, so it is never below the optimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import avr_gui.core.align._kernels as K
from avr_gui.core.align._validate import as_cost, as_sequence, check_finite
from avr_gui.core.align.draq import check_sampling
from avr_gui.core.align.dtw_base import DTWResult, band_limits
from avr_gui.core.errors import (
    AlignmentTooLargeError,
    DimensionMismatchError,
    InputError,
    NoPathError,
)

# Above this many cells (n * m) alignment switches to the multiscale method: 32 Mi cells
# is a 128 MB float32 cost matrix and a 32 MB direction matrix, about 5,800 frames
# (9.7 minutes at 10 fps) on each side.
MULTISCALE_CELLS = 32 * 2**20
# The coarsest level is solved exactly on at most this many cells (16 MB of costs).
BASE_CELLS = 2**22
# Half-width of the refinement band, in cells of the level being refined. Wider than
# FastDTW's usual 1-2 cells: a coarse cell averages away detail, and 32 fine cells
# absorb the misplacements that causes on real warps at little cost (the band is
# ~70 cells wide per row against thousands for a Sakoe-Chiba band).
RADIUS = 32
# Documented limit: a band may hold at most this many cells (one direction byte each,
# 256 MiB). Multiscale bands hold about (n + m) * (2 * RADIUS + 4) cells, so this is
# reached near 1.9 million frames per clip (53 hours at 10 fps).
MAX_BAND_CELLS = 2**28
# Band costs are computed this many at a time (8 MB of float32) and dropped after use.
_BLOCK_CELLS = 2**21
# A side is not pooled below this many frames: the coarse path must still say something.
_MIN_SIDE = 64

# Fills ``out`` with the ragged costs of band rows i0..i1-1: (lo, hi, i0, i1, out).
CostFn = Callable[[np.ndarray, np.ndarray, int, int, np.ndarray], object]


def needs_multiscale(n: int, m: int) -> bool:
    """Whether an ``n x m`` alignment is past the automatic switch to multiscale DTW."""
    return n * m > MULTISCALE_CELLS


@dataclass(frozen=True)
class BandStats:
    """Size of the bands one multiscale alignment used (for tests and benchmarks).

    Attributes
    ----------
    levels : int
        Number of levels, the exact coarsest one included.
    cells : tuple of int
        Cells of each level's band, coarsest first.
    """

    levels: int
    cells: tuple[int, ...]

    @property
    def peak_cells(self) -> int:
        """Largest band: the direction bytes the alignment held at once."""
        return max(self.cells)


def band_dtw(
    costs: CostFn,
    lo: np.ndarray,
    hi: np.ndarray,
    m: int,
    *,
    open_ends: bool = False,
) -> tuple[float, np.ndarray, float]:
    """DTW inside per-row windows, costs supplied a block of rows at a time.

    Parameters
    ----------
    costs : callable
        ``costs(lo, hi, i0, i1, out)`` writes the costs of rows ``i0 .. i1-1``,
        each row's window ``lo[i] .. hi[i]`` in turn, into ``out[: cells]``.
    lo, hi : numpy.ndarray, shape (n,), int64
        Inclusive column windows, non-decreasing, with ``lo[i] <= hi[i - 1] + 1``;
        ``lo[0] == 0`` and ``hi[-1] == m - 1`` unless ``open_ends``.
    m : int
        Number of columns.
    open_ends : bool
        Subsequence alignment: start anywhere in row 0, end anywhere in the last row.

    Returns
    -------
    cost : float
        Accumulated cost at the end cell.
    path : numpy.ndarray, shape (L, 2), int64
    checksum : float
        Sum of every cost read; NaN or inf when a cost was not finite.

    Raises
    ------
    AlignmentTooLargeError
        When the band holds more than :data:`MAX_BAND_CELLS` cells.
    """
    n = lo.shape[0]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(hi - lo + 1, out=offsets[1:])
    cells = int(offsets[-1])
    if cells > MAX_BAND_CELLS:
        raise AlignmentTooLargeError(
            f"aligning {n} x {m} frames needs a band of {cells:,} cells, over the limit of "
            f"{MAX_BAND_CELLS:,}; shorten the clips (or use a narrower --band)"
        )
    S = np.empty(cells, np.uint8)
    sb = offsets[:-1] - lo  # direction of (i, j) at S[sb[i] + j]
    prev = np.empty(m, np.float32)
    nxt = np.empty(m, np.float32)
    buf = np.empty(0, np.float32)
    total = 0.0
    i0 = 0
    while i0 < n:
        # As many rows as fit in one block of costs, at least one.
        i1 = int(np.searchsorted(offsets, offsets[i0] + _BLOCK_CELLS, side="right")) - 1
        i1 = min(n, max(i1, i0 + 1))
        need = int(offsets[i1] - offsets[i0])
        if buf.size < need:
            buf = np.empty(max(need, min(cells, _BLOCK_CELLS)), np.float32)
        costs(lo, hi, i0, i1, buf)
        cb = sb - offsets[i0]  # cost of (i, j) at buf[cb[i] + j] within this block
        prev, nxt, part = K.dtw_window(buf, cb, lo, hi, S, sb, prev, nxt, i0, i1, open_ends)
        total += part
        i0 = i1
    a, b = int(lo[-1]), int(hi[-1])
    end = a + int(np.argmin(prev[a : b + 1])) if open_ends else m - 1
    cost = float(prev[end])
    if math.isfinite(total) and not math.isfinite(cost):
        raise NoPathError("no monotone path fits inside the band; widen it")
    return cost, K.backtrack_flat(S, sb, n - 1, end), total


def project_band(
    path: np.ndarray,
    factors: tuple[int, int],
    shape: tuple[int, int],
    radius: int,
    *,
    pinned: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row windows of a finer level around a coarser level's path.

    Parameters
    ----------
    path : numpy.ndarray, shape (L, 2), int64
        Path at the coarser level; it covers every coarse row.
    factors : tuple of int
        ``(fa, fb)``: fine rows and columns per coarse cell.
    shape : tuple of int
        ``(n, m)`` of the finer level.
    radius : int
        Dilation in fine cells, in both directions.
    pinned : bool
        Force ``lo[0] = 0`` and ``hi[-1] = m - 1`` (a global, not subsequence, path).

    Returns
    -------
    lo, hi : numpy.ndarray, shape (n,), int64
        Inclusive windows satisfying the contract of :func:`band_dtw`.
    """
    fa, fb = factors
    n, m = shape
    rows = path[:, 0]
    coarse_rows = np.arange(int(rows[-1]) + 1)
    first = np.searchsorted(rows, coarse_rows, side="left")
    last = np.searchsorted(rows, coarse_rows, side="right") - 1
    owner = np.minimum(np.arange(n) // fa, coarse_rows[-1])
    lo_p = path[first, 1][owner] * fb
    hi_p = np.minimum(path[last, 1][owner] * fb + fb - 1, m - 1)
    # Square dilation: as the path is monotone, the extreme columns within `radius`
    # rows are those of the rows `radius` above (for lo) and below (for hi).
    idx = np.arange(n)
    lo = lo_p[np.maximum(idx - radius, 0)] - radius
    hi = hi_p[np.minimum(idx + radius, n - 1)] + radius
    # Where an edge clips the band, the path may be hugging it because the coarse
    # level could not tell: give the clipped width back on the other side.
    lo, hi = lo - np.maximum(hi - (m - 1), 0), hi + np.maximum(-lo, 0)
    lo = np.clip(lo, 0, m - 1)
    hi = np.clip(hi, 0, m - 1)
    # Restore monotonicity the widening may have broken (it only adds cells).
    lo = np.minimum.accumulate(lo[::-1])[::-1].copy()
    hi = np.maximum.accumulate(hi)
    if pinned:
        lo[0] = 0
        hi[-1] = m - 1
    return lo.astype(np.int64), hi.astype(np.int64)


def _pyramid(X: np.ndarray, factors: list[int]) -> dict[int, np.ndarray]:
    """Means of consecutive blocks of ``f`` rows for each factor (a power of 2).

    Each level sums pairs of the finer level's block sums, so the whole pyramid costs
    about two passes over ``X``; the last block of a level may be shorter.
    """
    out = {1: X}
    sums = X
    counts = np.ones(X.shape[0], np.float32)
    f = 1
    for target in sorted(set(factors)):
        while f < target:
            odd = sums.shape[0] % 2
            head = sums.shape[0] - odd
            sums = np.concatenate([sums[0:head:2] + sums[1:head:2], sums[head:]])
            counts = np.concatenate([counts[0:head:2] + counts[1:head:2], counts[head:]])
            f *= 2
        if f > 1:
            out[f] = np.ascontiguousarray(sums / counts[:, None], dtype=np.float32)
    return out


def _levels(n: int, m: int) -> list[tuple[int, int]]:
    """Pooling factors ``(fa, fb)`` of each level, finest ``(1, 1)`` first."""
    out = [(1, 1)]
    fa = fb = 1
    while math.ceil(n / fa) * math.ceil(m / fb) > BASE_CELLS:
        ga = 2 if math.ceil(n / fa) >= 2 * _MIN_SIDE else 1
        gb = 2 if math.ceil(m / fb) >= 2 * _MIN_SIDE else 1
        if ga == gb == 1:
            break
        fa, fb = fa * ga, fb * gb
        out.append((fa, fb))
    return out


def _coarse_to_fine(
    level_costs: Callable[[tuple[int, int]], CostFn],
    n: int,
    m: int,
    subsequence: bool,
    radius: int,
) -> tuple[DTWResult, BandStats, float]:
    """Run the levels of :func:`_levels`, coarsest first; returns the finest result."""
    levels = _levels(n, m)
    path = None
    cells = []
    total = 0.0
    cost = math.inf
    for k in range(len(levels) - 1, -1, -1):
        fa, fb = levels[k]
        nk, mk = math.ceil(n / fa), math.ceil(m / fb)
        if path is None:
            lo = np.zeros(nk, np.int64)
            hi = np.full(nk, mk - 1, np.int64)
        else:
            ca, cb = levels[k + 1]
            lo, hi = project_band(
                path, (ca // fa, cb // fb), (nk, mk), radius, pinned=not subsequence
            )
        cells.append(int((hi - lo + 1).sum()))
        cost, path, checksum = band_dtw(level_costs((fa, fb)), lo, hi, mk, open_ends=subsequence)
        total += checksum
    assert path is not None
    result = DTWResult(cost, path, (n, m), subsequence)
    return result, BandStats(len(levels), tuple(cells)), total


def _check_radius(radius: int) -> int:
    if not (isinstance(radius, (int, np.integer)) and radius >= 1):
        raise InputError(f"the multiscale radius must be a whole number >= 1, got {radius!r}")
    return int(radius)


def _unit_features(query: object, candidate: object, *, unit: bool) -> tuple[np.ndarray, ...]:
    q = as_sequence(query, "query features")
    c = as_sequence(candidate, "candidate features")
    if c.shape[1] != q.shape[1]:
        raise DimensionMismatchError(
            f"the candidate has {c.shape[1]} feature dimensions but the query has "
            f"{q.shape[1]}: both must come from the same encoder and settings"
        )
    if not unit:
        q, c = K.unit_rows(q), K.unit_rows(c)
    return q, c


def _feature_levels(q: np.ndarray, c: np.ndarray) -> Callable[[tuple[int, int]], CostFn]:
    levels = _levels(q.shape[0], c.shape[0])
    qs = _pyramid(q, [fa for fa, _ in levels])
    cs = _pyramid(c, [fb for _, fb in levels])

    def at(factors: tuple[int, int]) -> CostFn:
        Q, F = qs[factors[0]], cs[factors[1]]
        return lambda lo, hi, i0, i1, out: K.band_costs_features(Q, F, lo, hi, i0, i1, out)

    return at


def multiscale_dtw(
    query: np.ndarray,
    candidate: np.ndarray,
    *,
    subsequence: bool = False,
    radius: int = RADIUS,
    unit: bool = False,
) -> tuple[DTWResult, BandStats]:
    """DTW on the cosine cost of two feature sequences, coarse to fine.

    The ``n x m`` cost and direction matrices are never formed (see the module notes).

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    subsequence : bool
        Open-begin/open-end alignment along the candidate.
    radius : int
        Refinement band half-width in cells of each level.
    unit : bool
        The rows are already unit length (e.g. contextualized with ``unit=True``).

    Returns
    -------
    result : DTWResult
        Cost and path on the cost ``clip(1 - cos(q_i, c_j), 0, 2)``.
    stats : BandStats

    Raises
    ------
    AlignmentTooLargeError
        Past :data:`MAX_BAND_CELLS` band cells.
    """
    radius = _check_radius(radius)
    q, c = _unit_features(query, candidate, unit=unit)
    result, stats, _ = _coarse_to_fine(
        _feature_levels(q, c), q.shape[0], c.shape[0], subsequence, radius
    )
    return result, stats


def multiscale_dtw_cost(
    cost: np.ndarray, *, subsequence: bool = False, radius: int = RADIUS
) -> tuple[DTWResult, BandStats]:
    """Multiscale DTW of a given cost matrix (the coarse levels are block means).

    Parameters
    ----------
    cost : array_like, shape (n, m)
    subsequence : bool
    radius : int

    Returns
    -------
    result : DTWResult
    stats : BandStats
    """
    radius = _check_radius(radius)
    C = as_cost(cost, check=False)
    return _multiscale_matrix(C, subsequence, radius)


def _multiscale_matrix(
    C: np.ndarray, subsequence: bool, radius: int = RADIUS
) -> tuple[DTWResult, BandStats]:
    """:func:`multiscale_dtw_cost` on a float32 C-contiguous matrix of checked shape."""

    def at(factors: tuple[int, int]) -> CostFn:
        fa, fb = factors
        return lambda lo, hi, i0, i1, out: K.band_costs_pooled(C, fa, fb, lo, hi, i0, i1, out)

    result, stats, total = _coarse_to_fine(at, C.shape[0], C.shape[1], subsequence, radius)
    # The coarsest level pools every cell, so a NaN or inf anywhere shows in the sums.
    if not math.isfinite(total):
        check_finite(C, "cost matrix")
    return result, stats


def banded_dtw_features(
    query: np.ndarray, candidate: np.ndarray, band: float, *, unit: bool = False
) -> DTWResult:
    """Exact Sakoe-Chiba banded DTW from features, costs computed inside the band only.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    band : float
        Radius as a fraction of ``max(n, m)`` (see :func:`band_limits`).
    unit : bool
        The rows are already unit length.

    Returns
    -------
    DTWResult
    """
    q, c = _unit_features(query, candidate, unit=unit)
    n, m = q.shape[0], c.shape[0]
    lo, hi = band_limits(n, m, band)
    cost, path, _ = band_dtw(_feature_levels(q, c)((1, 1)), lo, hi, m)
    return DTWResult(cost, path, (n, m), False)


def random_path_costs_features(
    query: np.ndarray, candidate: np.ndarray, samples: int = 100, seed: int = 0
) -> np.ndarray:
    """Costs of seeded random monotone paths on the cosine cost, from unit features.

    The same paths as :func:`~avr_gui.core.align.draq.random_path_costs` on the cost
    matrix (same law, same seeds), computing only the cells they visit.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d), float32, unit rows
    candidate : numpy.ndarray, shape (m, d), float32, unit rows
    samples, seed : int

    Returns
    -------
    numpy.ndarray, shape (samples,), float64
    """
    check_sampling(samples, seed)
    return K.random_path_costs_features(query, candidate, int(samples), int(seed))
