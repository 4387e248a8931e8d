"""Alignments through pinned cells, checked against an independent brute-force DP."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.align import dtw, expected_random_cost
from avr_gui.core.workspace.anchors import AnchorError, align_through, check_anchors, random_paths


def _through_cost(C: np.ndarray, i: int, j: int) -> float:
    """Cheapest monotone path cost through (i, j): forward + backward DP, plain Python."""
    n, m = C.shape
    inf = float("inf")
    F = np.full((n, m), inf)
    B = np.full((n, m), inf)
    for a in range(n):
        for b in range(m):
            prev = (
                0.0
                if a == b == 0
                else min(
                    F[a - 1, b] if a else inf,
                    F[a, b - 1] if b else inf,
                    F[a - 1, b - 1] if a and b else inf,
                )
            )
            F[a, b] = C[a, b] + prev
    for a in range(n - 1, -1, -1):
        for b in range(m - 1, -1, -1):
            nxt = (
                0.0
                if (a, b) == (n - 1, m - 1)
                else min(
                    B[a + 1, b] if a + 1 < n else inf,
                    B[a, b + 1] if b + 1 < m else inf,
                    B[a + 1, b + 1] if a + 1 < n and b + 1 < m else inf,
                )
            )
            B[a, b] = C[a, b] + nxt
    return float(F[i, j] + B[i, j] - C[i, j])


def _valid(path: np.ndarray, n: int, m: int) -> bool:
    steps = np.diff(path, axis=0)
    return (
        tuple(path[0]) == (0, 0)
        and tuple(path[-1]) == (n - 1, m - 1)
        and bool(((steps == 0) | (steps == 1)).all())
        and bool((steps.sum(axis=1) > 0).all())
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_through_a_pin_is_optimal_among_paths_through_it(seed):
    rng = np.random.default_rng(seed)
    C = rng.random((13, 17)).astype(np.float32)
    i, j = int(rng.integers(1, 12)), int(rng.integers(1, 16))
    res = align_through(C, [(i, j)])
    assert _valid(res.path, 13, 17)
    assert any((res.path == [i, j]).all(axis=1))
    assert res.dtw_cost == pytest.approx(float(C[res.path[:, 0], res.path[:, 1]].sum()), rel=1e-6)
    assert res.dtw_cost == pytest.approx(_through_cost(C, i, j), rel=1e-5)
    assert res.draq == pytest.approx(res.dtw_cost / expected_random_cost(C), rel=1e-6)


def test_a_pin_on_the_optimal_path_changes_nothing():
    rng = np.random.default_rng(5)
    C = rng.random((20, 25)).astype(np.float32)
    best = dtw(C)
    i, j = best.path[len(best.path) // 2]
    res = align_through(C, [(int(i), int(j))])
    np.testing.assert_array_equal(res.path, best.path)
    assert res.dtw_cost == pytest.approx(best.cost, rel=1e-5)


def test_two_pins_and_corner_pins():
    rng = np.random.default_rng(7)
    C = rng.random((15, 15)).astype(np.float32)
    res = align_through(C, [(10, 3), (2, 1), (0, 0), (14, 14)])
    assert res.anchors == ((0, 0), (2, 1), (10, 3), (14, 14))
    assert _valid(res.path, 15, 15)
    for cell in res.anchors:
        assert any((res.path == cell).all(axis=1))


def test_crossing_or_outside_pins_are_refused():
    with pytest.raises(AnchorError, match="cross"):
        check_anchors([(2, 8), (5, 3)], (10, 10))
    with pytest.raises(AnchorError, match="outside"):
        align_through(np.ones((4, 4), np.float32), [(4, 0)])


def test_random_paths_follow_the_draq_law_and_repeat_with_the_seed():
    paths = random_paths(9, 14, 20, seed=3)
    assert len(paths) == 20
    assert all(_valid(p, 9, 14) for p in paths)
    again = random_paths(9, 14, 20, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(paths, again, strict=True))
    assert not all(np.array_equal(a, paths[0]) for a in paths[1:])
