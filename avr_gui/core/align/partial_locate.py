"""Locating the best-matching excerpts of two clips on a cost matrix (partial alignment).

:func:`locate_excerpts` finds the path that may begin on the first row or column and end on the
last row or column of a cost matrix and minimises the span-normalised cost;
:mod:`avr_gui.core.align.partial` classifies and scores what it finds.

Formulation
-----------
A path starts on the first row or the first column, ends on the last row or the last
column, and moves by (0,1), (1,0), (1,1). Among such paths it minimises the
*span-normalised* cost

    R(p) = D(p) / W(p),   W(p) = (i1 - i0 + 1) + (j1 - j0 + 1),

the sum of the costs on the path over the lengths of the two excerpts it aligns: the
:attr:`~avr_gui.core.align.pair.Alignment.normalized_cost` of the excerpts, so R of the
whole-clip path is what :func:`~avr_gui.core.align.pair.align` reports and the two
compare directly. Total cost alone cannot rank paths of different lengths (the cheapest
one is a single corner cell), and cost per *step* is no better: with the DP offset
``lambda`` per step the interior cells cost ``C - lambda`` and a staircase collects more
of them than the diagonal, so the path stops being a DTW path. W depends only on the end
cells, so for given end cells the minimiser of R is the ordinary DTW path of that
sub-matrix.

A ratio of path sums is minimised by Dinkelbach's parametric method (Newton's method
on ``F(lam) = min_p D(p) - lam W(p)``, concave and decreasing, with root ``lam* = min
R``). Since ``lam W(p) = lam (i1 + j1 + 2) - lam (i0 + j0)``, one evaluation of F is a
single DTW pass (``_partial_kernels.obe_dtw``, O(n m) time, one direction byte per
cell) in which a start cell pays ``lam (i0 + j0)`` and an end cell is credited
``lam (i1 + j1 + 2)``; the interior recurrence is that of plain DTW. The ratio of each
pass's path is the next ``lam``. F's slopes are ``-W`` of covering paths, between
``-(n + m)`` and ``-2K``, which bounds how far the current ratio can be above
``lam*``; the descent stops once that bound is within 1 %, so the ratio returned is at
most 1 % above the optimum (with the tolerance at 0 it matched a brute-force search on
1500 random small matrices exactly). On the same cost matrix the result is never more
than 1 % worse than the whole-clip alignment, which is one of the candidates.

This generalises open-begin-end DTW (Tormene et al., 2009), which opens both ends of
the reference only, keeps the query whole and can therefore normalise by the query
length; with both clips open, the normaliser W varies with the ends and the ratio has
to be optimised as such.

Coverage: the aligned excerpts must each span at least ``K = ceil(min_cover * min(n,
m))`` frames, otherwise tiny corner paths win. Starts with fewer than K frames after
them and ends with fewer than K frames before them are excluded in the pass, which is
the whole condition for the two overlap cases. For a path from the first row to the
last row (or first column to last column) the span on the other axis depends on both
ends: if the best end's optimal path falls short (it stalls on a few frames of one
clip), a branch and bound over ends with one restricted pass per offending end
(``_repair``) keeps F exact.

Speed: a pass costs about one whole-clip DTW. Clips of 96 frames or more start the
descent from the partial alignment of every other frame, refined at full rate by DTW in
a band of +-2 frames around it (coarse to fine, as in FastDTW); only the starting point
depends on it, not the answer. That usually leaves one full-rate pass: at 300 x 900,
0.83 ms against 0.37 ms for :func:`~avr_gui.core.align.dtw.dtw` (2.2x); end to end,
:func:`~avr_gui.core.align.partial.align_partial` 2.6 ms against
:func:`~avr_gui.core.align.pair.align` 2.1 ms (single-threaded BLAS; the extra cost
matrix of the excerpts is most of the difference).
"""

from __future__ import annotations

import math

import numpy as np

import avr_gui.core.align._kernels as K
import avr_gui.core.align._partial_kernels as PK
from avr_gui.core.align.dtw import direction_buffer, dtw_checked

# Dinkelbach stops once the ratio it holds is proven within this fraction of the
# optimum (the bound in locate_excerpts), which usually spares the pass that would only confirm.
_RTOL = 1e-2
# The coarse levels only seed the next level: a loose tolerance spares their confirming
# passes.
_SEED_RTOL = 0.25
# A safety cap; the descent converges in a few steps (superlinearly).
_MAX_ITER = 32
# Clips of at least twice this many frames start the descent from a half-rate solution,
# refined in a band of this many frames either side of it.
_COARSE_MIN = 48
_BAND = 2


def _covers(path: np.ndarray, k: int) -> bool:
    return bool(path[-1, 0] - path[0, 0] + 1 >= k and path[-1, 1] - path[0, 1] + 1 >= k)


def _best_end(C: np.ndarray, lam: float, k: int, S: np.ndarray, last_col: np.ndarray) -> np.ndarray:
    """One evaluation of F(lam): the covering path minimising ``D - lam * W``."""
    n, m = C.shape
    # Starts need k frames after them, ends k frames before them (see the module notes).
    last_row = PK.obe_dtw(C, lam, m - k + 1, n - k + 1, S, last_col)
    zeros = np.zeros(n, np.int64)
    i, j = PK.best_end(last_row, last_col, lam, k)
    path = K.backtrack(S, zeros, i, j)
    if _covers(path, k):
        return path
    return _repair(C, lam, k, S, last_row, last_col)


def _repair(
    C: np.ndarray,
    lam: float,
    k: int,
    S: np.ndarray,
    last_row: np.ndarray,
    last_col: np.ndarray,
) -> np.ndarray:
    """Branch and bound over end cells when the best end's optimal path falls short.

    The pass's value at an end is a lower bound for that end (it ignores the coupled
    span condition); where the end's optimal path covers, the bound is exact. For an
    end whose path does not, one more pass with the starts restricted to those that
    leave k frames before that end gives its exact value. Ends are taken in the
    order of their bounds until no bound can beat the best exact value found.
    """
    n, m = C.shape
    end_j = np.arange(k - 1, m, dtype=np.int64)
    end_i = np.arange(k - 1, n - 1, dtype=np.int64)  # (n-1, m-1) is in the row list
    ends_i = np.concatenate([np.full(len(end_j), n - 1, np.int64), end_i])
    ends_j = np.concatenate([end_j, np.full(len(end_i), m - 1, np.int64)])
    gain = ends_i + ends_j + 2
    bound = np.concatenate([last_row[end_j], last_col[end_i]]).astype(np.float64) - lam * gain
    zeros = np.zeros(n, np.int64)
    best_path: np.ndarray | None = None
    best_val = np.inf
    # Ties go to the later end (the longer alignment), as in PK.best_end.
    for e in np.lexsort((-gain, bound)):
        if bound[e] >= best_val:
            break
        i1, j1 = int(ends_i[e]), int(ends_j[e])
        path = K.backtrack(S, zeros, i1, j1)
        if _covers(path, k):
            return path  # exact, and no other end's bound is lower
        if path[0, 0] == 0:
            # From the first row to the last row: the start column must be <= j1 - k + 1.
            sub = C[:, : j1 + 1]
            opens = (j1 - k + 2, n - k + 1)
        else:
            # From the first column to the last column: the start row must be <= i1 - k + 1.
            sub = C[: i1 + 1]
            opens = (m - k + 1, i1 - k + 2)
        h, w = sub.shape
        S2 = np.empty((h, w), np.uint8)
        col2 = np.empty(h, np.float32)
        row2 = PK.obe_dtw(sub, lam, opens[0], opens[1], S2, col2)
        val = float(row2[w - 1]) - lam * (i1 + j1 + 2)
        if val < best_val:
            best_val = val
            best_path = K.backtrack(S2, np.zeros(h, np.int64), h - 1, w - 1)
    assert best_path is not None  # (n-1, m-1) always has a covering path
    return best_path


def _seed(C: np.ndarray, min_cover: float) -> np.ndarray:
    """A good path to start the descent from (any path will do; a good one saves passes).

    Small matrices: the whole-clip DTW path. Larger ones: the partial alignment of every
    other frame of both clips, refined at full rate by DTW in a narrow band around it
    (coarse-to-fine, as in FastDTW): its ratio is then within a few per cent of the
    optimum, so the full-rate descent usually ends after one pass.
    """
    n, m = C.shape
    if min(n, m) < 2 * _COARSE_MIN:
        return dtw_checked(C, None, False).path
    coarse, _ = locate_excerpts(np.ascontiguousarray(C[::2, ::2]), min_cover, _SEED_RTOL)
    nc, mc = (n + 1) // 2, (m + 1) // 2
    # The excerpts at full rate; a coarse path on a last row/column ends on the last
    # full-rate row/column (the starts map to 0 by themselves).
    i0, j0 = 2 * int(coarse[0, 0]), 2 * int(coarse[0, 1])
    i1 = n - 1 if coarse[-1, 0] == nc - 1 else 2 * int(coarse[-1, 0])
    j1 = m - 1 if coarse[-1, 1] == mc - 1 else 2 * int(coarse[-1, 1])
    sub = np.ascontiguousarray(C[i0 : i1 + 1, j0 : j1 + 1])
    h, w = sub.shape
    # Each coarse cell covers a 2 x 2 block; the band is those blocks widened by 2.
    rows = 2 * coarse[:, 0] - i0
    cols = 2 * coarse[:, 1] - j0
    lo = np.full(h, w, np.int64)
    hi = np.full(h, -1, np.int64)
    for dr in (0, 1):
        r = np.minimum(rows + dr, h - 1)
        np.minimum.at(lo, r, cols)
        np.maximum.at(hi, r, cols + 1)
    # A monotone band (a row without a block takes its neighbours' limits).
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo = np.clip(lo - _BAND, 0, w - 1)
    hi = np.clip(hi + _BAND, 0, w - 1)
    lo[0], hi[-1] = 0, w - 1
    end_cost, S = K.dtw_banded(sub, lo, hi)
    if not math.isfinite(end_cost):
        return dtw_checked(C, None, False).path  # pragma: no cover - the band always connects
    return K.backtrack(S, lo, h - 1, w - 1) + np.array([i0, j0], np.int64)


def locate_excerpts(
    C: np.ndarray, min_cover: float, rtol: float = _RTOL
) -> tuple[np.ndarray, float]:
    """Dinkelbach descent on a finite float32 matrix: the best covering path and its D.

    The path's ratio D / W is proven within ``rtol`` (relative) of the optimum.
    """
    n, m = C.shape
    k = max(1, math.ceil(min_cover * min(n, m) - 1e-9))
    seed = _seed(C, min_cover)
    seed_d = float(K.path_cost(C, seed))
    lam = seed_d / _width(seed)
    # A seed that covers is a path the answer must beat; one that falls short (the
    # coarse spans rounded down) only gives a first estimate of the ratio.
    best: np.ndarray | None = seed if _covers(seed, k) else None
    best_d = seed_d
    # After _seed: direction_buffer hands out one scratch buffer per thread.
    S = direction_buffer(n, m)
    last_col = np.empty(n, np.float32)
    for _ in range(_MAX_ITER):
        path = _best_end(C, lam, k, S, last_col)
        d = float(K.path_cost(C, path))
        w = _width(path)
        r = d / w
        # F(lam) = min_p D(p) - lam W(p) = w (r - lam), and every covering path has
        # 2k <= W <= n + m, so F's slopes bound how far r can be above the optimum:
        if r <= lam:
            # lam >= lam*, and lam* >= lam - w (lam - r) / (2k).
            gap = (lam - r) * (w / (2 * k) - 1.0)
        elif best is None:
            # A coarse estimate below the optimum: lam* >= lam + w (r - lam) / (n + m).
            gap = (r - lam) * (1.0 - w / (n + m))
        else:
            break  # only rounding gets here: lam is best's ratio and already optimal
        if gap <= rtol * abs(r):
            return path, d
        best, best_d, lam = path, d, r
    assert best is not None
    return best, best_d


def _width(path: np.ndarray) -> int:
    """W: the summed lengths of the two excerpts a path aligns."""
    return int(path[-1, 0] - path[0, 0] + 1 + path[-1, 1] - path[0, 1] + 1)


def locate_query_whole(
    C: np.ndarray, min_cover: float, rtol: float = _RTOL
) -> tuple[np.ndarray, float]:
    """The best path that covers every query row: the query inside the candidate.

    The same span-normalised ratio ``D / W`` as :func:`locate_excerpts`, minimised over
    paths from the first row to the last row only (subsequence DTW with both ends of the
    candidate open, normalised by the lengths of both excerpts), with the candidate's
    excerpt at least ``ceil(min_cover * n)`` frames long (at most ``1 / min_cover``
    times faster than the query), or all of it when it is shorter.

    Parameters
    ----------
    C : numpy.ndarray, shape (n, m), float32
        Finite per-frame costs, C-contiguous.
    min_cover : float
        In (0, 1].
    rtol : float
        The ratio returned is proven within this fraction of the optimum.

    Returns
    -------
    path : numpy.ndarray, shape (L, 2), int64
        From ``(0, j0)`` to ``(n - 1, j1)``.
    cost : float
        Its summed cost D.
    """
    n, m = C.shape
    k = min(m, max(1, math.ceil(min_cover * n - 1e-9)))
    best = dtw_checked(C, None, False).path  # covers both clips: a candidate to beat
    best_d = float(K.path_cost(C, best))
    lam = best_d / _width(best)
    S = direction_buffer(n, m)
    last_col = np.empty(n, np.float32)
    zeros = np.zeros(n, np.int64)
    for _ in range(_MAX_ITER):
        path = _best_row_end(C, lam, k, S, last_col, zeros)
        d = float(K.path_cost(C, path))
        w = _width(path)
        r = d / w
        if r > lam:
            break  # only rounding gets here: best's ratio is already optimal
        # Every allowed path has n + k <= W <= n + m: lam* >= lam - w (lam - r) / (n + k).
        gap = (lam - r) * (w / (n + k) - 1.0)
        best, best_d, lam = path, d, r
        if gap <= rtol * abs(r):
            break
    return best, best_d


def _best_row_end(
    C: np.ndarray, lam: float, k: int, S: np.ndarray, last_col: np.ndarray, zeros: np.ndarray
) -> np.ndarray:
    """F(lam) over first-row-to-last-row paths whose column span is at least ``k``."""
    n, m = C.shape
    last_row = PK.obe_dtw(C, lam, m - k + 1, 1, S, last_col)
    ends = np.arange(k - 1, m, dtype=np.int64)
    bound = last_row[ends].astype(np.float64) - lam * (n + 1 + ends)
    best_path: np.ndarray | None = None
    best_val = np.inf
    # Ties go to the later end (the longer alignment). The pass's value at an end is a
    # lower bound there (it ignores the span condition), exact when its path covers.
    for e in np.lexsort((-ends, bound)):
        if bound[e] >= best_val:
            break
        j1 = int(ends[e])
        path = K.backtrack(S, zeros, n - 1, j1)
        if path[-1, 1] - path[0, 1] + 1 >= k:
            return path
        # Restrict the starts to those that leave k columns before this end.
        sub = np.ascontiguousarray(C[:, : j1 + 1])
        S2 = np.empty(sub.shape, np.uint8)
        col2 = np.empty(n, np.float32)
        row2 = PK.obe_dtw(sub, lam, j1 - k + 2, 1, S2, col2)
        val = float(row2[j1]) - lam * (n + 1 + j1)
        if val < best_val:
            best_val = val
            best_path = K.backtrack(S2, zeros, n - 1, j1)
    assert best_path is not None  # the end m - 1 always has a covering path
    return best_path
