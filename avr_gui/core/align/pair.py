"""The alignment of a query with one or many candidates: features in, DRAQ and path out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avr_gui.core.align._validate import as_cost, as_sequence
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.cost import cost_matrices
from avr_gui.core.align.draq import baseline_cost as draq_baseline
from avr_gui.core.align.draq import ratio
from avr_gui.core.align.dtw import dtw_checked
from avr_gui.core.align.workers import kernel_pool
from avr_gui.core.device import resolve_device
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

# Candidates whose cost matrices are built by one matrix product; bounds peak memory
# (a block of 16 candidates of 600 frames against a 600-frame query is ~23 MB).
PAIR_BLOCK = 16


@dataclass(frozen=True)
class AlignmentOptions:
    """How a pair is aligned and scored."""

    context: bool = True
    band: float | None = None
    subsequence: bool = False
    draq_method: str = "exact"
    draq_samples: int = 100
    seed: int = 0
    #: Where the cost matrices' products run, as in :func:`~avr_gui.core.align.cost_matrix`:
    #: only ``"cuda"`` (here or in the ``device`` setting) puts them on the GPU.
    device: str | None = None


@dataclass(frozen=True)
class Alignment:
    """Result of aligning a query with one candidate.

    Attributes
    ----------
    draq : float
        DTW cost / mean random-path cost (lower = more alignable).
    dtw_cost : float
        D(n, m) on the cosine cost of the (contextualized) features.
    path : numpy.ndarray, shape (L, 2), int64
    shape : tuple of int
        ``(n, m)``.
    cost : numpy.ndarray or None, shape (n, m), float32
        The cost matrix, kept when requested (for display).
    """

    draq: float
    dtw_cost: float
    path: np.ndarray
    shape: tuple[int, int]
    cost: np.ndarray | None = None

    @property
    def normalized_cost(self) -> float:
        """D(n, m) / (n + m): a length-independent DTW cost."""
        return self.dtw_cost / float(sum(self.shape))


def _score(
    cost: np.ndarray, opts: AlignmentOptions, keep_cost: bool, draq: bool = True
) -> Alignment:
    res = dtw_checked(cost, opts.band, opts.subsequence)
    if not draq:
        # The caller ranks without DRAQ: its random-path baseline (about 3x the DTW's
        # own cost for a new shape) is not paid for.
        return Alignment(math.nan, res.cost, res.path, cost.shape, cost if keep_cost else None)
    baseline_cost = cost
    if opts.subsequence:
        # The random baseline covers the candidate frames the path actually spans.
        a, b = res.span
        baseline_cost = np.ascontiguousarray(cost[:, a : b + 1])
    # An unbanded DTW read, and so proved finite, every cell; a banded one only its
    # band, while the baseline weighs cells outside it too: it checks them then.
    baseline = draq_baseline(
        baseline_cost,
        opts.draq_method,
        opts.draq_samples,
        opts.seed,
        finite=opts.band is None,
    )
    value = ratio(res.cost, baseline)
    return Alignment(value, res.cost, res.path, cost.shape, cost if keep_cost else None)


def align_cost(
    cost: np.ndarray, options: AlignmentOptions | None = None, *, keep_cost: bool = False
) -> Alignment:
    """DTW and DRAQ of a given cost matrix (what :func:`align` does after the costs).

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Every cell must be finite, with or without a band: the DTW reads only the band,
        but DRAQ's random-path baseline weighs cells all over the matrix.
    options : AlignmentOptions, optional
        ``context`` and ``device`` are not used here.
    keep_cost : bool

    Returns
    -------
    Alignment
    """
    return _score(as_cost(cost, check=False), options or AlignmentOptions(), keep_cost)


def align(
    query: np.ndarray,
    candidate: np.ndarray,
    options: AlignmentOptions | None = None,
    *,
    keep_cost: bool = True,
) -> Alignment:
    """Align two feature sequences and score how alignable they are.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    options : AlignmentOptions, optional
    keep_cost : bool
        Keep the cost matrix in the result.

    Returns
    -------
    Alignment
    """
    return align_many(query, [candidate], options, keep_cost=keep_cost)[0]


def align_many(
    query: np.ndarray,
    candidates: Sequence[np.ndarray],
    options: AlignmentOptions | None = None,
    *,
    keep_cost: bool = False,
    draq: bool = True,
    workers: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[Alignment]:
    """Align one query with many candidates: the re-ranking stage of a search.

    Cost matrices are built a block of candidates at a time with one matrix product;
    DTW and DRAQ of a block run on a thread pool (the kernels release the GIL).

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidates : sequence of array_like, each shape (m_k, d)
    options : AlignmentOptions, optional
    keep_cost : bool
        Keep each cost matrix in its result (memory grows with n * sum(m_k)).
    draq : bool
        Compute DRAQ; False leaves ``draq`` NaN (for a ranking that does not use it).
    workers : int, optional
        Threads for DTW/DRAQ; default: :func:`~avr_gui.core.align.workers.default_workers`
        (the usable cores, at most 8; none on two cores or fewer).
    progress : callable
        ``progress(done, total, message)`` after each block.
    cancel : CancelToken, optional
        Checked between blocks; raises :class:`~avr_gui.core.jobs.Cancelled`.

    Returns
    -------
    list of Alignment
        In the order of ``candidates``.
    """
    opts = options or AlignmentOptions()
    q = as_sequence(query, "query features")
    cands = [as_sequence(c, f"candidate {k} features") for k, c in enumerate(candidates)]
    if opts.context:
        q = contextualize(q, unit=True)
    total = len(cands)
    results: list[Alignment] = []
    device = resolve_device(opts.device, gpu_when_auto=False)  # once: it reads the settings
    with kernel_pool(workers) as pool:
        for start in range(0, total, PAIR_BLOCK):
            check(cancel)
            block = cands[start : start + PAIR_BLOCK]
            if opts.context:
                # The kernel releases the GIL: contextualize the block on all cores.
                block = list(pool.map(lambda c: contextualize(c, unit=True), block))
            costs = cost_matrices(q, block, device=device, unit=opts.context, checked=True)
            results.extend(pool.map(lambda c: _score(c, opts, keep_cost, draq), costs))
            progress(len(results), total, "aligning candidates")
    return results
