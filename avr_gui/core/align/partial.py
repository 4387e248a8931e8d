"""Partial alignment: DTW whose path may begin and end on any border of the cost matrix.

Library clips run longer than the action and queries are trimmed, so a pair may align
in four ways: fully, the query inside the candidate (what subsequence DTW finds), the
candidate's action inside the query, or the two overlapping (the query's tail on the
candidate's head, or the other way round). :func:`align_partial` finds which, and aligns
and scores the aligned excerpts only.

The search for the excerpts (its formulation, coverage condition and speed) is in
:mod:`avr_gui.core.align.partial_locate`.

Contextualization
-----------------
:func:`align_many` contextualizes each whole clip (``F ⊕ cumsum(F)/T`` minus the clip
mean) before the cosine cost. On an excerpt the running sum and the mean are not those
of the whole clip, so the context halves of two corresponding frames disagree and a
cost matrix of whole-clip contextualized features is not the cost of aligning the
excerpts: the DP of :mod:`~avr_gui.core.align.partial_locate` needs a cell's cost not
to depend on which excerpt it ends up in. So excerpts are *located* on per-frame cosine
costs (which do not), and with ``options.context`` the located excerpts are then
contextualized on their own and aligned whole, exactly as :func:`align` aligns two
trimmed clips; path, cost and DRAQ come from that. Measured on the synthetic clips of
``tests/unit/test_partial_align.py`` (20 seeds; a 40-60 % excerpt of a 200-frame, 16-d
signal warped at speeds 0.5-2x, found in the whole signal; span error = frames off at
the worse end, cost ratio = smallest unrelated-clip cost / largest true-excerpt cost):

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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import avr_gui.core.align._kernels as K
from avr_gui.core.align._validate import as_cost, as_sequence
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.cost import cost_matrices
from avr_gui.core.align.draq import baseline_cost as draq_baseline
from avr_gui.core.align.draq import ratio
from avr_gui.core.align.dtw import dtw_checked
from avr_gui.core.align.pair import PAIR_BLOCK, Alignment, AlignmentOptions
from avr_gui.core.align.partial_locate import locate_excerpts, locate_query_whole
from avr_gui.core.align.workers import kernel_pool
from avr_gui.core.device import resolve_device
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

#: How a pair aligns, see :class:`PartialAlignment`.
MODES: tuple[str, ...] = ("full", "query_in_match", "match_in_query", "overlap")

#: An excerpt counts as the whole clip when it misses at most this fraction of the
#: clip's frames at each end (and at least one frame is always forgiven): a path that
#: starts on frame 2 of 200 has not found a different excerpt, only a noisy boundary.
FULL_TOLERANCE = 0.02


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
        local = dtw_checked(sub, None, False).path
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
    return _finish(C, locate_excerpts(C, mc), opts, keep_cost)


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
    query_whole: bool = False,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    costs: Sequence[np.ndarray] | None = None,
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
    query_whole : bool
        Only paths that cover every query frame (the query inside the candidate, or
        both whole: :func:`~avr_gui.core.align.partial_locate.locate_query_whole`); the
        candidate's excerpt spans at least ``ceil(min_cover * n)`` frames.
    workers : int, optional
        Threads; default: :func:`~avr_gui.core.align.workers.default_workers` (the
        usable cores, at most 8; none on two cores or fewer).
    progress : callable
        ``progress(done, total, message)`` after each block.
    cancel : CancelToken, optional
        Checked between blocks; raises :class:`~avr_gui.core.jobs.Cancelled`.
    costs : sequence of numpy.ndarray, optional
        The per-frame cost matrices ``[n, m_k]`` of these very pairs, from an earlier
        call (its results' ``alignment.cost`` with ``keep_cost``): used instead of
        being computed again. They must be that call's matrices, unchanged.

    Returns
    -------
    list of PartialAlignment
        In the order of ``candidates``.
    """
    opts = options or AlignmentOptions()
    mc = _check_min_cover(min_cover)
    if costs is not None:
        if len(costs) != len(candidates):
            raise InputError("one cost matrix per candidate is needed")
        for k, (C, c) in enumerate(zip(costs, candidates, strict=True)):
            if C is None or C.shape != (len(query), len(c)):
                raise InputError(f"cost matrix {k} does not belong to candidate {k}")
    _check_options(opts)
    q = as_sequence(query, "query features")
    cands = [as_sequence(c, f"candidate {k} features") for k, c in enumerate(candidates)]
    total = len(cands)
    results: list[PartialAlignment] = []
    locate = locate_query_whole if query_whole else locate_excerpts

    def excerpts(item: tuple[np.ndarray, tuple[np.ndarray, float]]) -> tuple[np.ndarray, ...]:
        c, (path, _) = item
        (i0, i1), (j0, j1) = _spans(path)
        return contextualize(q[i0 : i1 + 1], unit=True), contextualize(c[j0 : j1 + 1], unit=True)

    device = resolve_device(opts.device, gpu_when_auto=False)  # once: it reads the settings
    with kernel_pool(workers) as pool:
        for start in range(0, total, PAIR_BLOCK):
            check(cancel)
            block = cands[start : start + PAIR_BLOCK]
            # Per-frame costs do not depend on where an excerpt starts (module notes).
            if costs is None:
                block_costs = cost_matrices(q, block, device=device, checked=True)
            else:
                block_costs = list(costs[start : start + PAIR_BLOCK])
            located = list(pool.map(lambda C: locate(C, mc), block_costs))
            sub: list[np.ndarray | None] = [None] * len(block)
            if opts.context:
                parts = list(pool.map(excerpts, zip(block, located, strict=True)))
                sub = [
                    cost_matrices(a, [b], device=device, unit=True, checked=True)[0]
                    for a, b in parts
                ]
            results.extend(
                pool.map(
                    lambda job: _finish(job[0], job[1], opts, keep_cost, job[2]),
                    zip(block_costs, located, sub, strict=True),
                )
            )
            progress(len(results), total, "aligning candidates (partial)")
    return results
