"""Alignment that switches to multiscale DTW for long clips.

Kept apart from :mod:`~avr_gui.core.align.multiscale` because it is built on
:func:`~avr_gui.core.align.pair.align`, whose exact DTW hands large matrices to the
multiscale engine: in one module the two would import each other.
"""

from __future__ import annotations

import numpy as np

import avr_gui.core.align._kernels as K
from avr_gui.core.align._validate import as_sequence
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.draq import check_sampling, ratio
from avr_gui.core.align.multiscale import banded_dtw_features, multiscale_dtw, needs_multiscale
from avr_gui.core.align.pair import Alignment, AlignmentOptions, align
from avr_gui.core.errors import DimensionMismatchError, InputError


def _frames(x: object) -> int:
    """Rows of a 2-D array-like, or 0 when it is not one (align() then says why)."""
    try:
        shape = np.shape(x)
    except (TypeError, ValueError):
        return 0
    return int(shape[0]) if len(shape) == 2 else 0


def align_auto(
    query: np.ndarray,
    candidate: np.ndarray,
    options: AlignmentOptions | None = None,
    *,
    keep_cost: bool = False,
) -> Alignment:
    """:func:`~avr_gui.core.align.align` that stays in bounded memory for long clips.

    Up to :data:`~avr_gui.core.align.multiscale.MULTISCALE_CELLS` cells this is exactly
    ``align``. Past it:

    * without a band, the path comes from
      :func:`~avr_gui.core.align.multiscale.multiscale_dtw`;
    * with a band, from exact banded DTW with costs computed inside the band;
    * the DRAQ baseline is always sampled (``options.draq_samples`` random paths,
      costs computed along them): the exact baseline needs O(n m) memory;
    * no cost matrix is kept and the work runs on the CPU.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    options : AlignmentOptions, optional
    keep_cost : bool
        Below the switch only, as in ``align``.

    Returns
    -------
    Alignment

    Raises
    ------
    AlignmentTooLargeError
        Past :data:`~avr_gui.core.align.multiscale.MAX_BAND_CELLS` band cells.
    """
    opts = options or AlignmentOptions()
    if not needs_multiscale(_frames(query), _frames(candidate)):
        # Exactly align(), its checks and messages included.
        return align(query, candidate, opts, keep_cost=keep_cost)
    q = as_sequence(query, "query features")
    c = as_sequence(candidate, "candidate 0 features")
    if c.shape[1] != q.shape[1]:
        raise DimensionMismatchError(
            f"candidate 0 has {c.shape[1]} feature dimensions but the query has "
            f"{q.shape[1]}: both must come from the same encoder and settings"
        )
    if opts.band is not None and opts.subsequence:
        raise InputError("a band and subsequence alignment cannot be combined")
    check_sampling(opts.draq_samples, opts.seed)
    if opts.context:
        q, c = contextualize(q, unit=True), contextualize(c, unit=True)
    else:
        q, c = K.unit_rows(q), K.unit_rows(c)
    if opts.band is not None:
        res = banded_dtw_features(q, c, opts.band, unit=True)
    else:
        res, _ = multiscale_dtw(q, c, subsequence=opts.subsequence, unit=True)
    a, b = res.span if opts.subsequence else (0, c.shape[0] - 1)
    sub = np.ascontiguousarray(c[a : b + 1])
    baseline = float(K.random_path_costs_features(q, sub, opts.draq_samples, opts.seed).mean())
    return Alignment(ratio(res.cost, baseline), res.cost, res.path, res.shape, None)
