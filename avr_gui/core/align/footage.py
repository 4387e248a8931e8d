"""Whether a query is cut from a library clip: the same footage, seen again.

An editor's excerpt of a longer clip (trimmed, re-timed, re-graded) shows the very
frames of its source. Ranking by how the body moves cannot tell the source from another
clip of the same exercise, but the frames' appearance can: nearly every query frame has
an almost identical frame in the source, fewer in any other clip.

:func:`footage_overlap` is that cue: the median, over the query's frames, of the best
cosine similarity to any frame of a candidate (appearance features). Its level depends
on the footage, so the decision (:func:`same_footage`) asks two things of the best
candidate, both fitted on generated clips (``benchmarks/fit_same_footage.py``):

- its overlap is as high as a re-timed, re-graded copy's ever was (``min_overlap``: the
  lowest overlap of a generated excerpt with its source): different real clips that
  merely look alike (the same lawn, the same gym) stay below it;
- it leads the runner-up by ``margin`` (the highest lead of any pair of different
  generated clips): drawn figures on plain walls all look alike, and in such a library
  no clip leads the others by that much unless it is the query's footage.
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
    query: np.ndarray,
    candidates: Sequence[np.ndarray],
    rule: tuple[float, float] | None = None,
) -> tuple[int, float] | None:
    """Which candidate, if any, the query is cut from.

    Parameters
    ----------
    query : numpy.ndarray, shape (n, d)
        Appearance features.
    candidates : sequence of numpy.ndarray, each (m_k, d)
        The query's nearest clips by appearance (at least two).
    rule : (float, float), optional
        ``(min_overlap, margin)``. Default: :func:`same_footage_rule`.

    Returns
    -------
    (int, float) or None
        Index of the candidate and its overlap, when that overlap reaches ``min_overlap``
        and leads the runner-up's by at least ``margin``; None otherwise, or when no
        rule is installed.
    """
    r = same_footage_rule() if rule is None else rule
    if r is None:
        return None
    min_overlap, margin = r
    overlaps = [footage_overlap(query, c) for c in candidates]
    lead = overlap_margin(overlaps)
    if lead is None or lead[1] < margin or overlaps[lead[0]] < min_overlap:
        return None
    return lead[0], overlaps[lead[0]]


@functools.lru_cache(maxsize=1)
def same_footage_rule() -> tuple[float, float] | None:
    """``(min_overlap, margin)`` from which a candidate is the query's own footage.

    Returns
    -------
    (float, float) or None
        From ``resources/same_footage.json``; None (the cue is off) when the file is
        missing or damaged (logged).
    """
    try:
        text = resources.files("avr_gui").joinpath("resources/same_footage.json").read_text()
        doc = json.loads(text)
        low, margin = float(doc["min_overlap"]), float(doc["margin"])
        if not (-1.0 <= low <= 1.0 and 0.0 < margin <= 2.0):
            raise ValueError(f"min_overlap {low} or margin {margin} out of range")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logging.getLogger(__name__).warning("same_footage.json not used (%s)", exc)
        return None
    return low, margin
