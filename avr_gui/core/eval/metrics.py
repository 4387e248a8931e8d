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


def agreement_curve(
    scores: np.ndarray, agree: np.ndarray, percentiles: np.ndarray | None = None
) -> dict[str, list[float]]:
    """The paper's Figure 5: mean agreement of the pairs below each score percentile.

    Parameters
    ----------
    scores : array_like, shape (N,)
        Lower = more alignable (DRAQ, DTW cost, ...).
    agree : array_like, shape (N,)
        Agreement of each pair in [0, 1] (phase agreement, or same action as 0/1).
    percentiles : array_like, shape (P,), optional
        In (0, 100]; default 5, 10, ..., 100.

    Returns
    -------
    dict
        ``percentile`` [P] and ``agreement`` [P]: mean agreement of the pairs whose
        score is at or below that percentile of all scores (ties share a side).
    """
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(agree, dtype=np.float64)
    if s.ndim != 1 or s.shape != a.shape or s.size == 0:
        raise InputError("scores and agreement must be non-empty 1-D arrays of equal length")
    if not (np.isfinite(s).all() and np.isfinite(a).all()):
        raise InputError("scores and agreement must be finite")
    pct = np.arange(5, 101, 5, dtype=np.float64) if percentiles is None else np.asarray(percentiles)
    if pct.ndim != 1 or pct.size == 0 or (pct <= 0).any() or (pct > 100).any():
        raise InputError("percentiles must lie in (0, 100]")
    order = np.argsort(s, kind="stable")
    cum = np.cumsum(a[order])
    # The k cheapest pairs, k = ceil(p% of N), at least one.
    k = np.maximum(np.ceil(pct / 100.0 * s.size).astype(np.int64), 1)
    return {"percentile": pct.tolist(), "agreement": (cum[k - 1] / k).tolist()}


def _labels_along(path: np.ndarray, labels_a: np.ndarray, labels_b: np.ndarray):
    p = np.asarray(path, dtype=np.int64)
    la = np.asarray(labels_a)
    lb = np.asarray(labels_b)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0:
        raise InputError(f"a path is a non-empty (L, 2) array, got shape {p.shape}")
    if p[:, 0].max() >= len(la) or p[:, 1].max() >= len(lb) or p.min() < 0:
        raise InputError("the path leaves the labelled frames")
    return p, la, lb


def aligned_phase_agreement(path: np.ndarray, labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """APA: share of the path's cells whose two frames carry the same phase label.

    Parameters
    ----------
    path : array_like, shape (L, 2)
    labels_a : array_like, shape (n,)
        Phase label of each frame of the first sequence.
    labels_b : array_like, shape (m,)

    Returns
    -------
    float
    """
    p, la, lb = _labels_along(path, labels_a, labels_b)
    return float(np.mean(la[p[:, 0]] == lb[p[:, 1]]))


def dtw_accuracy(path: np.ndarray, labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """Share of the first sequence's frames whose DTW partner has the same phase.

    Unlike :func:`aligned_phase_agreement`, every frame of the first sequence counts
    once (its partner is its first matched frame, the first sequence kept unwarped),
    so a path that stalls on many cells cannot inflate the figure.

    Parameters
    ----------
    path : array_like, shape (L, 2)
        Full path covering every frame of the first sequence.
    labels_a : array_like, shape (n,)
    labels_b : array_like, shape (m,)

    Returns
    -------
    float
    """
    p, la, lb = _labels_along(path, labels_a, labels_b)
    partner = np.rint(time_map(p, keep="query", reduce="first")).astype(np.int64)
    if len(partner) != len(la):
        raise InputError("the path must cover every frame of the first sequence")
    return float(np.mean(la == lb[partner]))


def cycle_cpe(path: np.ndarray, labels: np.ndarray) -> float:
    """Cycle Phase Error: share of query frames whose phase changes on the round trip.

    Each query frame is carried to the match keeping the match unwarped, then back
    keeping the query unwarped (as in :func:`cycle_fpe`); the frame lands on a query
    position whose phase label is compared with the original frame's.

    Parameters
    ----------
    path : array_like, shape (L, 2)
    labels : array_like, shape (n,)
        Phase label of each query frame.

    Returns
    -------
    float
        In [0, 1]; 0 = cycle-consistent phases.
    """
    p = np.asarray(path)
    lab = np.asarray(labels)
    query_of_match = time_map(p, keep="candidate")
    match_of_query = time_map(p, keep="query")
    if len(match_of_query) != len(lab):
        raise InputError(f"{len(lab)} labels for a path over {len(match_of_query)} query frames")
    back = np.interp(match_of_query, np.arange(len(query_of_match)), query_of_match)
    landed = np.clip(np.rint(back).astype(np.int64), 0, len(lab) - 1)
    return float(np.mean(lab[landed] != lab))
