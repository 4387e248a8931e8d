"""DRAQ: optimal DTW cost divided by the mean cost of random monotone paths.

Lower is more alignable. The random baseline is available exactly (expected cost under
the random-path law, from visit probabilities cached per matrix shape) and sampled
(``k`` seeded random paths), as described in DESIGN.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from avr_gui.core.align import _kernels as K
from avr_gui.core.align._validate import as_cost, check_finite
from avr_gui.core.errors import InputError

METHODS = ("exact", "sampled")


class _ShapeCache:
    """LRU of visit-probability matrices keyed by shape, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, n: int, m: int) -> np.ndarray:
        key = (n, m)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        # Computed outside the lock: two threads may both compute a new shape once,
        # which is cheaper than serialising every DRAQ behind one computation.
        value = K.visit_probabilities(n, m).astype(np.float32)
        value.setflags(write=False)
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
    numpy.ndarray, shape (n, m), float32, read-only
        Cached per shape; ``P.sum()`` is the expected path length.
    """
    if n < 1 or m < 1:
        raise InputError(f"matrix shape must be at least 1 x 1, got {n} x {m}")
    return _CACHE.get(int(n), int(m))


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
    return _expected(as_cost(cost, check=False))


def _expected(C: np.ndarray) -> float:
    value = float(K.weighted_sum(visit_probabilities(*C.shape), C))
    if not np.isfinite(value):
        check_finite(C, "cost matrix")  # raises, naming the first bad cell
    return value


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
    if samples < 1:
        raise InputError(f"the number of random paths must be at least 1, got {samples}")
    if not 0 <= seed < 2**63:
        raise InputError(f"the seed must be in [0, 2**63), got {seed}")
    return K.random_path_costs(C, int(samples), int(seed))


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
    if method == "exact":
        return expected_random_cost(cost)
    if method == "sampled":
        return float(random_path_costs(cost, samples, seed).mean())
    raise InputError(f"unknown DRAQ method {method!r}: use one of {', '.join(METHODS)}")


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
    C = as_cost(cost, check=method != "exact")
    if method == "exact":
        baseline = _expected(C)
    else:
        baseline = random_cost(C, method=method, samples=samples, seed=seed)
    return ratio(dtw_cost, baseline)
