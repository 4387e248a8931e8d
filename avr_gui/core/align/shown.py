"""The alignment a user sees, plays and exports: partial, and defined for every query frame.

:func:`~avr_gui.core.align.partial.align_partial` finds which parts of two clips align
(the trimmed query inside a longer library clip, the clip's action inside the query, or
an overlap). The player and the retimed export need a partner for *every* query frame,
so the path is extended at its ends: query frames before the aligned excerpt hold the
excerpt's first match frame, frames after it its last one (a hold, never an
extrapolation). The costs, DRAQ and spans stay those of the aligned excerpts.

A partial alignment that leaves query frames out competes with two larger ones, the
best alignment of the *whole query* inside the candidate and the whole-clip alignment,
each kept only if, outside the excerpts, it does not force unrelated frames together
(:func:`_partial_explains_better`); when both fit, the whole clips win unless that takes
one clip at more than :data:`MAX_RATE` times the other's speed. On the trimmed real clips
of ``benchmarks/eval_trimmed.py`` the whole-clip path crammed a trimmed excerpt of
repetitive footage (push-ups, walking lunges) over every repetition at a cost that
looked matched; a trimmed query is what the user wants aligned. Alone, the partial
alignment sometimes prefers a cheaper part of a pair that corresponds throughout: on
E1's warped copy of ``pushup2.mp4`` it aligned the copy's second half with the
original's first (push-ups repeat), holding 60 % of the copy on one frame (error 79.9
frames, against 0.33 for the whole-clip alignment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from avr_gui.core.align.pair import Alignment, AlignmentOptions, align_many
from avr_gui.core.align.partial import PartialAlignment, align_partial_many
from avr_gui.core.jobs import CancelToken


@dataclass(frozen=True)
class ShownAlignment:
    """A partial alignment ready for display and export.

    Attributes
    ----------
    alignment : Alignment
        ``path`` (shape (L, 2), int64) covers every query frame ``0 .. n-1`` (held at the
        excerpt's ends outside it); ``draq`` and ``dtw_cost`` of the aligned excerpts.
    mode : str
        ``full``, ``query_in_match``, ``match_in_query`` or ``overlap``.
    query_span, match_span : tuple of int
        Inclusive feature-frame indices of the aligned excerpts.
    normalized_cost : float
        DTW cost per excerpt frame of the aligned part.
    """

    alignment: Alignment
    mode: str
    query_span: tuple[int, int]
    match_span: tuple[int, int]
    normalized_cost: float


def cover_query(path: np.ndarray, n: int) -> np.ndarray:
    """Extend a monotone path so that every query frame ``0 .. n-1`` appears on it.

    Parameters
    ----------
    path : numpy.ndarray, shape (L, 2), int
        ``(query, match)`` cells, monotone.
    n : int
        Query length.

    Returns
    -------
    numpy.ndarray, shape (L', 2), int64
        The path with ``(i, j0)`` prepended for ``i < i0`` and ``(i, j1)`` appended for
        ``i > i1`` (still monotone).
    """
    p = np.asarray(path, np.int64)
    i0, j0 = int(p[0, 0]), int(p[0, 1])
    i1, j1 = int(p[-1, 0]), int(p[-1, 1])
    head = np.stack([np.arange(0, i0), np.full(i0, j0)], axis=1).astype(np.int64)
    tail = np.stack([np.arange(i1 + 1, n), np.full(max(n - i1 - 1, 0), j1)], axis=1)
    return np.ascontiguousarray(np.concatenate([head, p, tail.astype(np.int64)]))


def from_partial(pa: PartialAlignment) -> ShownAlignment:
    """Wrap a :class:`PartialAlignment` for display (see the module docstring)."""
    n = pa.alignment.shape[0]
    shown = Alignment(
        pa.alignment.draq,
        pa.alignment.dtw_cost,
        cover_query(pa.path, n),
        pa.alignment.shape,
        pa.alignment.cost,
    )
    return ShownAlignment(shown, pa.mode, pa.query_span, pa.match_span, pa.normalized_cost)


def shown_alignment(
    query: np.ndarray,
    candidate: np.ndarray,
    options: AlignmentOptions | None = None,
    *,
    keep_cost: bool = True,
) -> ShownAlignment:
    """Partially align two feature sequences and make the path cover the whole query.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d)
    candidate : numpy.ndarray, shape (m, d)
    options : AlignmentOptions, optional
    keep_cost : bool
        Keep the whole pair's cost matrix (for display).

    Returns
    -------
    ShownAlignment
    """
    return shown_alignments(query, [candidate], options, keep_cost=keep_cost)[0]


def shown_alignments(
    query: np.ndarray,
    candidates: Sequence[np.ndarray],
    options: AlignmentOptions | None = None,
    *,
    keep_cost: bool = True,
    cancel: CancelToken | None = None,
    query_inside: bool = False,
) -> list[ShownAlignment]:
    """:func:`shown_alignment` of one query with many candidates, in one batch.

    The same results as one call per candidate, but the cost matrices are built a block
    at a time and the pairs aligned on one thread pool: the matches a query shows are
    aligned on every core instead of one after the other.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d)
    candidates : sequence of numpy.ndarray, each shape (m_k, d)
    options : AlignmentOptions, optional
    keep_cost : bool
        Keep each pair's cost matrix (for display).
    cancel : CancelToken, optional
    query_inside : bool
        The query is known to be cut from every candidate (the same footage:
        :mod:`avr_gui.core.align.footage`): each candidate at least as long as the query
        gets the best alignment of the whole query inside it, nothing else competes.

    Returns
    -------
    list of ShownAlignment
        In the order of ``candidates``.
    """
    opts = options if options is not None else AlignmentOptions()
    if opts.band is not None or opts.subsequence:
        opts = replace(opts, band=None, subsequence=False)
    if query_inside and all(len(c) >= len(query) for c in candidates):
        found = align_partial_many(
            query, candidates, opts, keep_cost=keep_cost, query_whole=True, cancel=cancel
        )
        return [from_partial(pa) for pa in found]
    # Costs kept for the comparisons below; dropped at the end unless asked for.
    partial = align_partial_many(query, candidates, opts, keep_cost=True, cancel=cancel)
    # Where every query frame is aligned (the query is the match, or a part of it) the
    # partial alignment is shown as it is. Elsewhere two larger explanations compete
    # with it: the whole query inside the match (a trimmed query is what the user wants
    # aligned) and the whole clips. Each must explain the cells it adds about as well
    # as the partial path explains its own (_partial_explains_better). When both do,
    # the whole clips win unless aligning them means one is on average more than
    # MAX_RATE times faster than the other: in repetitive footage (push-ups, lunges) a
    # whole-clip path can cram a trimmed query over every repetition at a cost that
    # looks matched, and only the rate gives it away.
    cut = [k for k, pa in enumerate(partial) if pa.mode not in ("full", "query_in_match")]
    inside = (
        align_partial_many(
            query,
            [candidates[k] for k in cut],
            opts,
            keep_cost=True,
            query_whole=True,
            cancel=cancel,
            # The same per-frame matrices the first pass built and kept: not again
            # (most shown matches of real queries come here: 206 of 239 on E3/E3b).
            costs=[partial[k].alignment.cost for k in cut],
        )
        if cut
        else []
    )
    wholes = (
        align_many(query, [candidates[k] for k in cut], opts, keep_cost=True, cancel=cancel)
        if cut
        else []
    )

    def shown(pa: PartialAlignment) -> ShownAlignment:
        if not keep_cost:
            pa = replace(pa, alignment=replace(pa.alignment, cost=None))
        return from_partial(pa)

    out = [shown(pa) for pa in partial]
    for k, qw, full in zip(cut, inside, wholes, strict=True):
        pa = partial[k]
        whole_ok = not _partial_explains_better(pa, full)
        inside_ok = not _partial_explains_better(pa, qw.alignment)
        if inside_ok and (not whole_ok or not _plausible_rate(*full.shape)):
            out[k] = shown(qw)
        elif whole_ok:
            cost = full.cost if keep_cost else None
            whole = Alignment(full.draq, full.dtw_cost, full.path, full.shape, cost)
            n, m = full.shape
            out[k] = ShownAlignment(whole, "full", (0, n - 1), (0, m - 1), full.normalized_cost)
    return out


#: The largest average speed ratio of two performances the whole-clip alignment is
#: trusted with when a shorter explanation also fits (a design assumption, not fitted:
#: people repeat a movement at up to about twice or half the speed).
MAX_RATE = 2.0


def _plausible_rate(n: int, m: int) -> bool:
    """Whether aligning ``n`` frames with ``m`` whole needs at most :data:`MAX_RATE`."""
    return max(n, m) <= MAX_RATE * min(n, m)


def _partial_explains_better(pa: PartialAlignment, full: Alignment) -> bool:
    """Whether the pair corresponds only in the excerpts the partial alignment found.

    Along the whole-clip path, the cells outside the excerpts either continue the
    correspondence (a warped copy: they cost about what matched frames cost) or force
    unrelated frames together (a trimmed query in a longer clip: they cost about what
    any two frames cost). Their mean cost is compared with the two references it could
    be, on the same cost matrix: the mean cost of the partial path's cells (matched)
    and the mean of the whole matrix (chance); the nearer one decides. No threshold to
    fit.
    """
    assert full.cost is not None
    (i0, i1), (j0, j1) = pa.query_span, pa.match_span
    path = full.path
    outside = ~((path[:, 0] >= i0) & (path[:, 0] <= i1) & (path[:, 1] >= j0) & (path[:, 1] <= j1))
    if not outside.any():
        return False
    c = full.cost
    matched = float(c[pa.path[:, 0], pa.path[:, 1]].mean())
    chance = float(np.mean(c))
    return float(c[path[outside, 0], path[outside, 1]].mean()) > 0.5 * (matched + chance)
