"""Partial alignment: DTW whose path may begin and end on any border of the cost matrix.

Library clips run longer than the action and queries are trimmed, so a pair may align
in four ways: fully, the query inside the candidate (what subsequence DTW finds), the
candidate's action inside the query, or the two overlapping (the query's tail on the
candidate's head, or the other way round). :func:`align_partial` finds which, and aligns
and scores the aligned excerpts only.

Formulation
-----------
A path starts on the first row or the first column, ends on the last row or the last
column, and moves by (0,1), (1,0), (1,1). Among such paths it minimises the
*span-normalised* cost

    R(p) = D(p) / W(p),   W(p) = (i1 - i0 + 1) + (j1 - j0 + 1),

the sum of the costs on the path over the lengths of the two excerpts it aligns: the
:attr:`Alignment.normalized_cost` of the excerpts, so R of the whole-clip path is what
:func:`align` reports and the two compare directly. Total cost alone cannot rank
paths of different lengths (the cheapest one is a single corner cell), and cost per
*step* is no better: with the DP offset ``lambda`` per step the interior cells cost
``C - lambda`` and a staircase collects more of them than the diagonal, so the path
stops being a DTW path. W depends only on the end cells, so for given end cells the
minimiser of R is the ordinary DTW path of that sub-matrix.

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
:func:`align_partial` 2.6 ms against :func:`align` 2.1 ms (single-threaded BLAS; the
extra cost matrix of the excerpts is most of the difference).

Contextualization
-----------------
:func:`align_many` contextualizes each whole clip (``F ⊕ cumsum(F)/T`` minus the clip
mean) before the cosine cost. On an excerpt the running sum and the mean are not those
of the whole clip, so the context halves of two corresponding frames disagree and a
cost matrix of whole-clip contextualized features is not the cost of aligning the
excerpts: the DP above needs a cell's cost not to depend on which excerpt it ends up
in. So excerpts are *located* on per-frame cosine costs (which do not), and with
``options.context`` the located excerpts are then contextualized on their own and
aligned whole, exactly as :func:`align` aligns two trimmed clips; path, cost and DRAQ
come from that. Measured on the synthetic clips of ``tests/unit/test_partial_align.py``
(20 seeds; a 40-60 % excerpt of a 200-frame, 16-d signal warped at speeds 0.5-2x,
found in the whole signal; span error = frames off at the worse end, cost ratio =
smallest unrelated-clip cost / largest true-excerpt cost):

===============================================  ========  =========  ==========
located on                                       span err  map err    cost ratio
                                                 mean/max  mean/max   (ranking)
===============================================  ========  =========  ==========
whole-clip contextualized costs                  4.8 / 7   2.26/3.15  4.5
per-frame costs (``context=False``)              0.6 / 1   0.28/0.35  170
per-frame costs, excerpts re-contextualized      0.6 / 1   0.89/2.19  40
(``context=True``, the default)
:func:`align` on the whole clips                 --        --         1.1
===============================================  ========  =========  ==========

(one of the 20 whole-clip-context cases was not even classed ``query_in_match``). The
re-contextualized excerpts map a little worse than per-frame costs on these signals,
which hold no repeated motion; the context is kept because on real actions it is what
tells two look-alike phases apart, and because it keeps costs and DRAQ on the scale of
:func:`align`'s.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

import avr_gui.core.align._kernels as K
import avr_gui.core.align._partial_kernels as PK
from avr_gui.core.align._validate import as_cost, as_sequence
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.cost import cost_matrices
from avr_gui.core.align.draq import baseline_cost as draq_baseline
from avr_gui.core.align.draq import ratio
from avr_gui.core.align.dtw import _directions, _dtw
from avr_gui.core.align.pair import _BLOCK, Alignment, AlignmentOptions
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

#: How a pair aligns, see :class:`PartialAlignment`.
MODES: tuple[str, ...] = ("full", "query_in_match", "match_in_query", "overlap")

#: An excerpt counts as the whole clip when it misses at most this fraction of the
#: clip's frames at each end (and at least one frame is always forgiven): a path that
#: starts on frame 2 of 200 has not found a different excerpt, only a noisy boundary.
FULL_TOLERANCE = 0.02

# Dinkelbach stops once the ratio it holds is proven within this fraction of the
# optimum (the bound in _locate), which usually spares the pass that would only confirm.
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


@dataclass(frozen=True)
class ExcerptAlignment(Alignment):
    """An :class:`Alignment` whose path covers only excerpts of the two clips.

    ``path`` holds full-clip indices and ``shape`` / ``cost`` are those of the whole
    pair (so the path draws on the whole cost matrix); ``dtw_cost`` and ``draq`` are of
    the aligned excerpts.
    """

    @property
    def normalized_cost(self) -> float:
        """D / (excerpt lengths): comparable with a whole-clip alignment's D / (n + m)."""
        p = self.path
        width = (p[-1, 0] - p[0, 0] + 1) + (p[-1, 1] - p[0, 1] + 1)
        return self.dtw_cost / float(width)


@dataclass(frozen=True)
class PartialAlignment:
    """The best partial alignment of a query with one candidate.

    Attributes
    ----------
    alignment : Alignment
        An :class:`ExcerptAlignment`: ``path`` (shape (L, 2), int64) in full-clip
        indices from ``(query_span[0], match_span[0])`` to ``(query_span[1],
        match_span[1])``; ``dtw_cost`` the path's summed cost; ``draq`` that cost over
        the mean random-path cost of the excerpts' cost matrix (``cost[i0:i1+1,
        j0:j1+1]``, or with ``options.context`` that of the excerpts' own
        contextualized features); ``normalized_cost`` ``dtw_cost / (i1 - i0 + 1 + j1 -
        j0 + 1)``; ``shape`` ``(n, m)``; ``cost``, when kept, the whole pair's
        per-frame cost matrix on which the excerpts were located.
    mode : str
        One of :data:`MODES`: ``"full"`` (both clips covered up to
        :data:`FULL_TOLERANCE`), ``"query_in_match"`` (all of the query, part of the
        candidate), ``"match_in_query"`` (all of the candidate, part of the query) or
        ``"overlap"`` (the end of one clip on the start of the other).
    query_span, match_span : tuple of int
        Inclusive first and last feature-frame index of the aligned excerpt of each clip.
    """

    alignment: Alignment
    mode: str
    query_span: tuple[int, int]
    match_span: tuple[int, int]

    @property
    def draq(self) -> float:
        """DRAQ of the aligned excerpts."""
        return self.alignment.draq

    @property
    def normalized_cost(self) -> float:
        """Cost per excerpt frame of the aligned part."""
        return self.alignment.normalized_cost

    @property
    def path(self) -> np.ndarray:
        """The warp path in full-clip indices, shape (L, 2)."""
        return self.alignment.path


def _check_min_cover(min_cover: float) -> float:
    try:
        value = float(min_cover)
    except (TypeError, ValueError) as exc:
        raise InputError(f"min_cover must be a number in (0, 1], got {min_cover!r}") from exc
    if not 0.0 < value <= 1.0:  # also rejects NaN
        raise InputError(
            f"min_cover must be in (0, 1] (the fraction of the shorter clip the aligned "
            f"part must span), got {min_cover}"
        )
    return value


def _tolerance(length: int) -> int:
    return max(1, int(FULL_TOLERANCE * length))


def _mode(n: int, m: int, qs: tuple[int, int], ms: tuple[int, int]) -> str:
    tq, tm = _tolerance(n), _tolerance(m)
    query_whole = qs[0] <= tq and qs[1] >= n - 1 - tq
    match_whole = ms[0] <= tm and ms[1] >= m - 1 - tm
    if query_whole and match_whole:
        return "full"
    if query_whole:
        return "query_in_match"
    if match_whole:
        return "match_in_query"
    return "overlap"


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
        return _dtw(C, None, False).path
    coarse, _ = _locate(np.ascontiguousarray(C[::2, ::2]), min_cover, _SEED_RTOL)
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
        return _dtw(C, None, False).path  # pragma: no cover - the band always connects
    return K.backtrack(S, lo, h - 1, w - 1) + np.array([i0, j0], np.int64)


def _locate(C: np.ndarray, min_cover: float, rtol: float = _RTOL) -> tuple[np.ndarray, float]:
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
    # After _seed: _directions hands out one scratch buffer per thread.
    S = _directions(n, m)
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


def _check_options(opts: AlignmentOptions) -> None:
    if opts.band is not None:
        raise InputError(
            "a band cannot be combined with partial alignment (the path may leave the "
            "diagonal of the whole pair by design)"
        )


def _spans(path: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    return (int(path[0, 0]), int(path[-1, 0])), (int(path[0, 1]), int(path[-1, 1]))


def _finish(
    C: np.ndarray,
    located: tuple[np.ndarray, float],
    opts: AlignmentOptions,
    keep_cost: bool,
    excerpt_cost: np.ndarray | None = None,
) -> PartialAlignment:
    """Score the located excerpts: on ``C``'s sub-matrix or on ``excerpt_cost``."""
    n, m = C.shape
    path, d = located
    qs, ms = _spans(path)
    if excerpt_cost is None:
        # The random baseline of the excerpts the path aligns, not of the whole pair.
        sub = np.ascontiguousarray(C[qs[0] : qs[1] + 1, ms[0] : ms[1] + 1])
    else:
        # Re-aligned on the excerpts' own contextualized features: the same end cells,
        # a path that may differ inside.
        sub = excerpt_cost
        local = _dtw(sub, None, False).path
        d = float(K.path_cost(sub, local))
        path = local + np.array([qs[0], ms[0]], np.int64)
    base = draq_baseline(sub, opts.draq_method, opts.draq_samples, opts.seed, finite=True)
    al = ExcerptAlignment(ratio(d, base), d, path, (n, m), C if keep_cost else None)
    return PartialAlignment(al, _mode(n, m, qs, ms), qs, ms)


def align_partial_cost(
    cost: np.ndarray,
    options: AlignmentOptions | None = None,
    *,
    min_cover: float = 0.5,
    keep_cost: bool = False,
) -> PartialAlignment:
    """Partial alignment and DRAQ of a given cost matrix.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Finite local costs; rows are query frames, columns candidate frames.
    options : AlignmentOptions, optional
        The DRAQ settings are used; ``context``, ``device`` and ``subsequence`` are not
        (partial alignment includes the subsequence case). ``band`` must be None.
    min_cover : float
        In (0, 1]: the aligned excerpts must each span at least
        ``ceil(min_cover * min(n, m))`` frames.
    keep_cost : bool
        Keep the cost matrix in ``alignment.cost``.

    Returns
    -------
    PartialAlignment

    Raises
    ------
    InputError
        Empty, non-2-D or non-finite costs, ``min_cover`` outside (0, 1], or a band.
    """
    mc = _check_min_cover(min_cover)
    opts = options or AlignmentOptions()
    _check_options(opts)
    C = as_cost(cost)
    return _finish(C, _locate(C, mc), opts, keep_cost)


def align_partial(
    query: np.ndarray,
    candidate: np.ndarray,
    options: AlignmentOptions | None = None,
    *,
    min_cover: float = 0.5,
    keep_cost: bool = False,
) -> PartialAlignment:
    """Align the best-matching excerpts of two feature sequences.

    The excerpts are located on per-frame cosine costs; with ``options.context`` they
    are then re-aligned on their own contextualized features, as :func:`align` would
    align the two trimmed clips (see the module notes for why).

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    options : AlignmentOptions, optional
        As for :func:`~avr_gui.core.align.pair.align`; ``subsequence`` is ignored and
        ``band`` must be None.
    min_cover : float
        In (0, 1]: the aligned excerpts must each span at least
        ``ceil(min_cover * min(n, m))`` frames.
    keep_cost : bool
        Keep the per-frame cost matrix of the whole pair (shape (n, m)), on which the
        excerpts were located, in ``alignment.cost``.

    Returns
    -------
    PartialAlignment

    Raises
    ------
    InputError
        Empty, non-2-D or non-finite features, different feature dimensions,
        ``min_cover`` outside (0, 1], or a band.
    """
    return align_partial_many(
        query, [candidate], options, min_cover=min_cover, keep_cost=keep_cost
    )[0]


def align_partial_many(
    query: np.ndarray,
    candidates: Sequence[np.ndarray],
    options: AlignmentOptions | None = None,
    *,
    min_cover: float = 0.5,
    keep_cost: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[PartialAlignment]:
    """Partially align one query with many candidates (cf. :func:`align_many`).

    Per block of candidates: the per-frame cost matrices in one call, the excerpts
    located on a thread pool (the kernels release the GIL), and with
    ``options.context`` the excerpts contextualized and re-aligned.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidates : sequence of array_like, each shape (m_k, d)
    options : AlignmentOptions, optional
        ``subsequence`` is ignored; ``band`` must be None.
    min_cover : float
        In (0, 1]; see :func:`align_partial`.
    keep_cost : bool
        Keep each per-frame cost matrix in its result (memory grows with n * sum(m_k)).
    workers : int, optional
        Threads; default: the CPU count, at most 8.
    progress : callable
        ``progress(done, total, message)`` after each block.
    cancel : CancelToken, optional
        Checked between blocks; raises :class:`~avr_gui.core.jobs.Cancelled`.

    Returns
    -------
    list of PartialAlignment
        In the order of ``candidates``.
    """
    opts = options or AlignmentOptions()
    mc = _check_min_cover(min_cover)
    _check_options(opts)
    q = as_sequence(query, "query features")
    cands = [as_sequence(c, f"candidate {k} features") for k, c in enumerate(candidates)]
    total = len(cands)
    results: list[PartialAlignment] = []
    n_workers = workers or min(8, os.cpu_count() or 1)

    def excerpts(item: tuple[np.ndarray, tuple[np.ndarray, float]]) -> tuple[np.ndarray, ...]:
        c, (path, _) = item
        (i0, i1), (j0, j1) = _spans(path)
        return contextualize(q[i0 : i1 + 1], unit=True), contextualize(c[j0 : j1 + 1], unit=True)

    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for start in range(0, total, _BLOCK):
            check(cancel)
            block = cands[start : start + _BLOCK]
            # Per-frame costs do not depend on where an excerpt starts (module notes).
            costs = cost_matrices(q, block, device=opts.device)
            located = list(pool.map(lambda C: _locate(C, mc), costs))
            sub: list[np.ndarray | None] = [None] * len(block)
            if opts.context:
                parts = list(pool.map(excerpts, zip(block, located, strict=True)))
                sub = [cost_matrices(a, [b], device=opts.device, unit=True)[0] for a, b in parts]
            results.extend(
                pool.map(
                    lambda job: _finish(job[0], job[1], opts, keep_cost, job[2]),
                    zip(costs, located, sub, strict=True),
                )
            )
            progress(len(results), total, "aligning candidates (partial)")
    return results
