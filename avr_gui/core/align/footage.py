"""Whether a query is cut from a library clip: the same footage, seen again.

An editor's excerpt of a longer clip (trimmed, re-timed, re-graded) shows the very
frames of its source. Ranking by how the body moves cannot tell the source from another
clip of the same exercise, but the frames' appearance can: nearly every query frame has
an almost identical frame in the source, fewer in any other clip.

:func:`footage_overlap` is that cue: the median, over the query's frames, of the best
cosine similarity to any frame of a candidate (appearance features). Its level depends
on the footage (drawn figures on plain walls all look alike), so the decision is
relative (:func:`same_footage`): the best candidate is the query's own footage when its
overlap exceeds the runner-up's by at least :func:`same_footage_margin`, fitted on
generated clips so that no pair of different clips reached it
(``benchmarks/fit_same_footage.py``).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from importlib import resources

import numpy as np

from avr_gui.core.errors import ShapeError

#: Query frames compared at most (evenly spaced): bounds the cost of long queries.
MAX_QUERY_FRAMES = 64
#: Candidates compared: the query's nearest clips by appearance.
CANDIDATES = 10


def _unit_rows(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def footage_overlap(query: np.ndarray, candidate: np.ndarray) -> float:
    """Median over query frames of the best cosine similarity to a candidate frame.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d)
        Appearance features of the query's frames (at most :data:`MAX_QUERY_FRAMES`
        evenly spaced ones are used).
    candidate : numpy.ndarray, shape (m, d)

    Returns
    -------
    float
        In [-1, 1]; near 1 when every query frame appears in the candidate; -1 when
        either has no frame.
    """
    q = np.asarray(query)
    c = np.asarray(candidate)
    if q.ndim != 2 or c.ndim != 2 or q.shape[1] != c.shape[1]:
        raise ShapeError(f"features [n, d] and [m, d] expected, got {q.shape} and {c.shape}")
    if len(q) == 0 or len(c) == 0:
        return -1.0
    if len(q) > MAX_QUERY_FRAMES:
        q = q[np.linspace(0, len(q) - 1, MAX_QUERY_FRAMES).round().astype(int)]
    best = (_unit_rows(q) @ _unit_rows(c).T).max(axis=1)
    return float(np.median(best))


def overlap_margin(overlaps: Sequence[float]) -> tuple[int, float] | None:
    """The candidate with the highest overlap and its lead over the runner-up.

    Parameters
    ----------
    overlaps : sequence of float, length K
        :func:`footage_overlap` of the query with each candidate.

    Returns
    -------
    (int, float) or None
        Index of the best candidate and ``best - second``; None with fewer than two
        candidates (nothing to compare against).
    """
    o = np.asarray(overlaps, np.float64)
    if o.size < 2:
        return None
    order = np.argsort(-o, kind="stable")
    return int(order[0]), float(o[order[0]] - o[order[1]])


def same_footage(
    query: np.ndarray, candidates: Sequence[np.ndarray], margin: float | None = None
) -> tuple[int, float] | None:
    """Which candidate, if any, the query is cut from.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d)
        Appearance features.
    candidates : sequence of numpy.ndarray, each (m_k, d)
        The query's nearest clips by appearance (at least two).
    margin : float, optional
        Default: :func:`same_footage_margin`.

    Returns
    -------
    (int, float) or None
        Index of the candidate and its overlap, when its overlap leads the runner-up's by
        at least ``margin``; None otherwise, or when no margin is installed.
    """
    m = same_footage_margin() if margin is None else margin
    if m is None:
        return None
    overlaps = [footage_overlap(query, c) for c in candidates]
    lead = overlap_margin(overlaps)
    if lead is None or lead[1] < m:
        return None
    return lead[0], overlaps[lead[0]]


@functools.lru_cache(maxsize=1)
def same_footage_margin() -> float | None:
    """The lead over the runner-up from which a candidate is the query's own footage.

    Returns
    -------
    float or None
        From ``resources/same_footage.json``; None (the cue is off) when the file is
        missing or damaged (logged).
    """
    try:
        text = resources.files("avr_gui").joinpath("resources/same_footage.json").read_text()
        value = float(json.loads(text)["margin"])
        if not 0.0 < value <= 2.0:
            raise ValueError(f"margin {value} outside (0, 2]")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).warning("same_footage.json not used (%s)", exc)
        return None
    return value
