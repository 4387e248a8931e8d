"""DRAQ: optimal DTW cost divided by the mean cost of random monotone paths.

Lower is more alignable. The random baseline is available exactly (expected cost under
the random-path law, from visit probabilities cached per matrix shape) and sampled
(``k`` seeded random paths), as described in DESIGN.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

import avr_gui.core.align._kernels as K
from avr_gui.core.align._validate import as_cost, check_finite
from avr_gui.core.errors import InputError

METHODS = ("exact", "sampled")


# Cells a random path visits with probability below this are dropped from the cached
# weights: the expectation changes by at most 2 * EPS per dropped cell (costs are at most
# 2), far below float32 precision, while the weights shrink to a band around the
# diagonal (about half of a 1000 x 1000 matrix), halving the exact DRAQ's memory and time.
VISIT_EPS = 1e-15


@dataclass(frozen=True)
class _Compact:
    values: np.ndarray
    lo: np.ndarray
    offsets: np.ndarray
    shape: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.lo.nbytes + self.offsets.nbytes


class _ShapeCache:
    """LRU of compact visit-probability weights keyed by shape, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[int, int], _Compact] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, n: int, m: int) -> _Compact:
        key = (n, m)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        # Computed outside the lock: two threads may both compute a new shape once,
        # which is cheaper than serialising every DRAQ behind one computation.
        values, lo, offsets = K.compact_visit_probabilities(n, m, VISIT_EPS)
        for arr in (values, lo, offsets):
            arr.setflags(write=False)
        value = _Compact(values, lo, offsets, key)
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._bytes += value.nbytes
                while self._bytes > self.max_bytes and len(self._items) > 1:
                    _, old = self._items.popitem(last=False)
                    self._bytes -= old.nbytes
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


_CACHE = _ShapeCache(max_bytes=256 * 2**20)


def visit_probabilities(n: int, m: int) -> np.ndarray:
    """Probability that a random monotone path of an ``n x m`` matrix visits each cell.

    Parameters
    ----------
    n, m : int
        Matrix shape, both >= 1.

    Returns
    -------
    numpy.ndarray, shape (n, m), float64
        ``P.sum()`` is the expected path length. Computed afresh (O(n m)); DRAQ itself
        uses a cached compact form that drops cells below ``VISIT_EPS``.
    """
    if n < 1 or m < 1:
        raise InputError(f"matrix shape must be at least 1 x 1, got {n} x {m}")
    return K.visit_probabilities(int(n), int(m))


def expected_random_cost(cost: np.ndarray) -> float:
    """Exact expected cost of a random monotone path through ``cost``.

    Parameters
    ----------
    cost : array_like, shape (n, m)

    Returns
    -------
    float
        ``sum(P * cost)`` with ``P`` from :func:`visit_probabilities`.
    """
    return _expected(as_cost(cost))


def _expected(C: np.ndarray) -> float:
    # The weights skip cells no random path realistically visits, so a NaN there would
    # not show in the sum: callers check C first (or know it is finite).
    w = _CACHE.get(*C.shape)
    return float(K.compact_weighted_sum(w.values, w.lo, w.offsets, C))


def random_path_costs(cost: np.ndarray, samples: int = 100, seed: int = 0) -> np.ndarray:
    """Costs of ``samples`` seeded random monotone paths through ``cost``.

    Parameters
    ----------
    cost : array_like, shape (n, m)
    samples : int
        Number of paths ``k`` (>= 1).
    seed : int
        Seed in [0, 2**63); the same seed gives the same paths.

    Returns
    -------
    numpy.ndarray, shape (samples,), float64
    """
    C = as_cost(cost)
    check_sampling(samples, seed)
    return K.random_path_costs(C, int(samples), int(seed))


def check_sampling(samples: int, seed: int) -> None:
    """Raise :class:`InputError` unless ``samples`` >= 1 and ``seed`` is in [0, 2**63).

    Shared by every caller that draws random monotone paths (DRAQ, multiscale, auto).
    """
    if samples < 1:
        raise InputError(f"the number of random paths must be at least 1, got {samples}")
    if not 0 <= seed < 2**63:
        raise InputError(f"the seed must be in [0, 2**63), got {seed}")


def random_cost(
    cost: np.ndarray, *, method: str = "exact", samples: int = 100, seed: int = 0
) -> float:
    """Mean random-path cost, exact or sampled.

    Parameters
    ----------
    cost : array_like, shape (n, m)
    method : {"exact", "sampled"}
    samples, seed : int
        Used by ``"sampled"`` only.

    Returns
    -------
    float
    """
    return baseline_cost(as_cost(cost, check=False), method, samples, seed, finite=False)


def baseline_cost(C: np.ndarray, method: str, samples: int, seed: int, *, finite: bool) -> float:
    """:func:`random_cost` on a float32 C-contiguous matrix of checked shape.

    Parameters
    ----------
    C : numpy.ndarray, shape (n, m), float32
    method : {"exact", "sampled"}
    samples, seed : int
        Used by ``"sampled"`` only.
    finite : bool
        True only when every cell of C is already known finite, which spares a pass
        over C: an unbanded DTW reads (and checks) every cell, but a banded one reads
        only its band, so after it pass False. Neither the sampled paths nor the
        compact exact weights touch every cell, so they cannot be relied on to meet
        a bad one themselves.

    Returns
    -------
    float
    """
    if method not in METHODS:
        raise InputError(f"unknown DRAQ method {method!r}: use one of {', '.join(METHODS)}")
    if method == "sampled":
        check_sampling(samples, seed)
    if not finite:
        check_finite(C, "cost matrix")
    if method == "exact":
        return _expected(C)
    return float(K.random_path_costs(C, int(samples), int(seed)).mean())


def ratio(dtw_cost: float, baseline: float) -> float:
    """DRAQ from a DTW cost and a mean random-path cost."""
    if baseline <= 0.0:
        # Every random path costs nothing, so every path is optimal: perfectly alignable.
        return 0.0 if dtw_cost <= 0.0 else float("inf")
    return float(dtw_cost) / baseline


def draq(
    cost: np.ndarray,
    dtw_cost: float,
    *,
    method: str = "exact",
    samples: int = 100,
    seed: int = 0,
) -> float:
    """DRAQ = optimal DTW cost / mean random-path cost on the same matrix.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        The cost matrix the DTW ran on (for subsequence alignment, the columns the
        path spans).
    dtw_cost : float
        D(n, m) of the optimal path.
    method : {"exact", "sampled"}
    samples, seed : int
        Number of random paths and their seed for ``"sampled"``.

    Returns
    -------
    float
        Near 0 for a pair that aligns far better than chance, near 1 for no structure.
    """
    C = as_cost(cost, check=False)
    return ratio(dtw_cost, baseline_cost(C, method, samples, seed, finite=False))
