"""Evaluation metrics (EVAL.md): retrieval, score separation and cycle consistency."""

from __future__ import annotations

import numpy as np

from avr_gui.core.align.timemap import time_map
from avr_gui.core.errors import InputError


def recall_at_k(hits: np.ndarray, k: int) -> float:
    """Share of queries with at least one hit among their first ``k`` results.

    Parameters
    ----------
    hits : array_like of bool, shape (Q, K)
        ``hits[q, r]``: the result at rank r of query q is relevant.
    k : int

    Returns
    -------
    float
    """
    h = np.asarray(hits, dtype=bool)
    if h.ndim != 2 or h.shape[0] == 0:
        raise InputError(f"hits must be a non-empty [queries, ranks] array, got {h.shape}")
    if not 1 <= k <= h.shape[1]:
        raise InputError(f"k must be in 1..{h.shape[1]}, got {k}")
    return float(h[:, :k].any(axis=1).mean())


def auroc(scores: np.ndarray, positive: np.ndarray, *, lower_is_positive: bool = True) -> float:
    """Area under the ROC curve of ``scores`` for telling positives from negatives.

    Equals the probability that a random positive scores better than a random negative
    (ties count one half): the Mann-Whitney statistic, computed from average ranks.

    Parameters
    ----------
    scores : array_like, shape (N,)
    positive : array_like of bool, shape (N,)
    lower_is_positive : bool
        True for costs such as DRAQ (a low score means "positive").

    Returns
    -------
    float
        In [0, 1]; 0.5 is chance.
    """
    s = np.asarray(scores, dtype=np.float64)
    p = np.asarray(positive, dtype=bool)
    if s.shape != p.shape or s.ndim != 1:
        raise InputError("scores and labels must be 1-D arrays of the same length")
    n_pos = int(p.sum())
    n_neg = int((~p).sum())
    if n_pos == 0 or n_neg == 0:
        raise InputError("AUROC needs at least one positive and one negative")
    if not np.isfinite(s).all():
        raise InputError("scores must be finite")
    v = -s if lower_is_positive else s
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v), np.float64)
    sorted_v = v[order]
    # Average ranks over ties (1-based).
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[p].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def cycle_fpe(path: np.ndarray) -> float:
    """Frame Position Error by cycle consistency along one alignment path.

    Each query frame's position is carried to the match keeping the match unwarped,
    then carried back keeping the query unwarped; FPE is the mean squared difference
    from the original position, in query frames.

    Parameters
    ----------
    path : array_like, shape (L, 2)
        Full DTW path from (0, 0) to (n-1, m-1).

    Returns
    -------
    float
    """
    p = np.asarray(path)
    query_of_match = time_map(p, keep="candidate")  # [m] position carried to the match
    match_of_query = time_map(p, keep="query")  # [n]
    back = np.interp(match_of_query, np.arange(len(query_of_match)), query_of_match)
    return float(np.mean((back - np.arange(len(match_of_query))) ** 2))


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two sequences (scipy), 1.0 for a constant pair."""
    from scipy.stats import kendalltau

    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise InputError("Kendall's tau needs two 1-D sequences of the same length >= 2")
    tau = kendalltau(a, b).statistic
    return 1.0 if not np.isfinite(tau) else float(tau)
