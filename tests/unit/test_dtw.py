"""DTW on a given cost matrix: optimality, path validity, bands, subsequences, ties."""

from __future__ import annotations

import itertools

import librosa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from avr_gui.core.align import DTWResult, band_limits, cost_matrix, dtw

MOVES = {(0, 1), (1, 0), (1, 1)}
PROPERTY = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------------- helpers


def all_paths(n: int, m: int):
    """Every monotone path from (0, 0) to (n-1, m-1) with moves (0,1), (1,0), (1,1)."""

    def walk(i: int, j: int, acc: list[tuple[int, int]]):
        acc.append((i, j))
        if (i, j) == (n - 1, m - 1):
            yield list(acc)
        else:
            for di, dj in ((0, 1), (1, 0), (1, 1)):
                if i + di < n and j + dj < m:
                    yield from walk(i + di, j + dj, acc)
        acc.pop()

    yield from walk(0, 0, [])


def brute_force_cost(C: np.ndarray) -> float:
    C64 = C.astype(np.float64)
    return min(sum(C64[i, j] for i, j in p) for p in all_paths(*C.shape))


def brute_force_subsequence_cost(C: np.ndarray) -> float:
    """min over start/end columns a <= b of the best full path through C[:, a..b]."""
    m = C.shape[1]
    return min(brute_force_cost(C[:, a : b + 1]) for a in range(m) for b in range(a, m))


def path_sum(C: np.ndarray, path: np.ndarray) -> float:
    return float(C.astype(np.float64)[path[:, 0], path[:, 1]].sum())


def assert_valid_path(path: np.ndarray, n: int, m: int, *, subsequence: bool = False) -> None:
    assert path.ndim == 2 and path.shape[1] == 2
    assert path.dtype == np.int64
    assert path[0, 0] == 0
    assert path[-1, 0] == n - 1
    if not subsequence:
        assert tuple(path[0]) == (0, 0)
        assert tuple(path[-1]) == (n - 1, m - 1)
    assert (path[:, 0] >= 0).all() and (path[:, 0] < n).all()
    assert (path[:, 1] >= 0).all() and (path[:, 1] < m).all()
    steps = {tuple(int(v) for v in s) for s in np.diff(path, axis=0)}
    assert steps <= MOVES, f"illegal steps {steps - MOVES}"


@st.composite
def cost_arrays(draw, max_side: int = 40) -> np.ndarray:
    n = draw(st.integers(1, max_side))
    m = draw(st.integers(1, max_side))
    return draw(hnp.arrays(np.float32, (n, m), elements=st.floats(0.0, 10.0, width=32)))


# ---------------------------------------------------------------------- brute force


TINY_SHAPES = [(n, m) for n in range(1, 6) for m in range(1, 7)]


@pytest.mark.parametrize(("n", "m"), TINY_SHAPES)
def test_cost_is_brute_force_minimum(n: int, m: int) -> None:
    rng = np.random.default_rng(1000 * n + m)
    for _ in range(2):
        C = rng.random((n, m), dtype=np.float32) * 5
        res = dtw(C)
        np.testing.assert_allclose(res.cost, brute_force_cost(C), rtol=1e-5)
        assert_valid_path(res.path, n, m)
        np.testing.assert_allclose(path_sum(C, res.path), res.cost, rtol=1e-5)


def test_result_fields() -> None:
    C = np.random.default_rng(0).random((5, 8), dtype=np.float32)
    res = dtw(C)
    assert isinstance(res, DTWResult)
    assert res.shape == (5, 8)
    assert res.subsequence is False
    assert isinstance(res.cost, float)
    assert res.span == (0, 7)


# ------------------------------------------------------------------- librosa agreement


LIBROSA_SHAPES = [
    (1, 1),
    (1, 9),
    (9, 1),
    (2, 3),
    (4, 4),
    (7, 13),
    (13, 7),
    (16, 16),
    (33, 64),
    (130, 97),
    (97, 130),
]


@pytest.mark.parametrize(("n", "m"), LIBROSA_SHAPES)
def test_agrees_with_librosa(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 131 + m)
    C = rng.random((n, m), dtype=np.float32) * 2
    D, wp = librosa.sequence.dtw(C=C.astype(np.float64), backtrack=True)
    res = dtw(C)
    np.testing.assert_allclose(res.cost, D[-1, -1], rtol=1e-5)
    assert_valid_path(res.path, n, m)
    np.testing.assert_allclose(path_sum(C, res.path), D[-1, -1], rtol=1e-5)
    # And librosa's own path is no better than ours.
    np.testing.assert_allclose(path_sum(C, wp[::-1]), res.cost, rtol=1e-5)


# ----------------------------------------------------------------- property tests


@PROPERTY
@given(C=cost_arrays())
def test_property_full_path(C: np.ndarray) -> None:
    n, m = C.shape
    res = dtw(C)
    assert_valid_path(res.path, n, m)
    np.testing.assert_allclose(path_sum(C, res.path), res.cost, rtol=1e-5, atol=1e-5)
    # One lower bound that holds for every monotone path: it visits max(n, m) cells
    # at least, each costing at least min(C); and the cost is at most the cost of
    # any concrete path (here: down the first column, then along the last row).
    assert res.cost >= float(C.min()) * max(n, m) * (1 - 1e-5) - 1e-5
    l_path = float(C[:, 0].astype(np.float64).sum() + C[-1, 1:].astype(np.float64).sum())
    assert res.cost <= l_path * (1 + 1e-5) + 1e-5


@PROPERTY
@given(C=cost_arrays(), radius=st.floats(0.0, 1.0, exclude_min=True))
def test_property_banded_path(C: np.ndarray, radius: float) -> None:
    n, m = C.shape
    full = dtw(C)
    res = dtw(C, band=radius)
    assert_valid_path(res.path, n, m)
    lo, hi = band_limits(n, m, radius)
    rows, cols = res.path[:, 0], res.path[:, 1]
    assert (cols >= lo[rows]).all() and (cols <= hi[rows]).all()
    np.testing.assert_allclose(path_sum(C, res.path), res.cost, rtol=1e-5, atol=1e-5)
    assert res.cost >= full.cost  # a band only removes paths


@PROPERTY
@given(C=cost_arrays())
def test_property_full_band_equals_unbanded(C: np.ndarray) -> None:
    res = dtw(C, band=1.0)
    assert res.cost == dtw(C).cost
    assert_valid_path(res.path, *C.shape)


@PROPERTY
@given(n=st.integers(1, 60), m=st.integers(1, 60), radius=st.floats(0.0, 1.0, exclude_min=True))
def test_property_band_limits_admit_a_path(n: int, m: int, radius: float) -> None:
    lo, hi = band_limits(n, m, radius)
    assert lo.shape == hi.shape == (n,)
    assert lo[0] == 0 and hi[-1] == m - 1
    assert (lo <= hi).all()
    assert (lo >= 0).all() and (hi <= m - 1).all()
    assert (np.diff(lo) >= 0).all() and (np.diff(hi) >= 0).all()
    # Consecutive rows must connect with a legal move.
    assert (lo[1:] <= hi[:-1] + 1).all()


def test_narrow_band_costs_more_on_off_diagonal_optimum() -> None:
    # Cheap cells only along the first row then the last column: a narrow band
    # around the diagonal cannot reach them.
    n = m = 20
    C = np.ones((n, m), np.float32)
    C[0, :] = 0.0
    C[:, -1] = 0.0
    assert dtw(C).cost == 0.0
    assert dtw(C, band=0.1).cost > 0.0


# -------------------------------------------------------------------- subsequence


@pytest.mark.parametrize("offset", [0, 7, 25, 50])
def test_subsequence_finds_embedded_copy(offset: int) -> None:
    rng = np.random.default_rng(offset + 3)
    n, m, d = 10, 60, 8
    query = rng.normal(size=(n, d)).astype(np.float32)
    cand = rng.normal(size=(m, d)).astype(np.float32)
    cand[offset : offset + n] = query
    C = cost_matrix(query, cand, device="cpu")
    res = dtw(C, subsequence=True)
    assert res.subsequence is True
    assert res.span == (offset, offset + n - 1)
    assert res.cost < 1e-4
    assert_valid_path(res.path, n, m, subsequence=True)
    np.testing.assert_array_equal(res.path[:, 0], np.arange(n))
    np.testing.assert_array_equal(res.path[:, 1], np.arange(offset, offset + n))
    full = dtw(C)
    assert res.cost <= full.cost
    assert full.cost > 1.0  # the full path has to cross unrelated frames


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 5), (2, 2), (2, 5), (3, 4), (3, 6), (4, 6)])
def test_subsequence_brute_force(n: int, m: int) -> None:
    rng = np.random.default_rng(77 * n + m)
    for _ in range(3):
        C = rng.random((n, m), dtype=np.float32) * 3
        res = dtw(C, subsequence=True)
        np.testing.assert_allclose(res.cost, brute_force_subsequence_cost(C), rtol=1e-5)
        assert_valid_path(res.path, n, m, subsequence=True)
        np.testing.assert_allclose(path_sum(C, res.path), res.cost, rtol=1e-5)
        a, b = res.span
        assert 0 <= a <= b < m


@PROPERTY
@given(C=cost_arrays())
def test_property_subsequence(C: np.ndarray) -> None:
    n, m = C.shape
    res = dtw(C, subsequence=True)
    assert_valid_path(res.path, n, m, subsequence=True)
    np.testing.assert_allclose(path_sum(C, res.path), res.cost, rtol=1e-5, atol=1e-5)
    assert res.cost <= dtw(C).cost


# -------------------------------------------------------------------- determinism


def test_ties_resolved_deterministically() -> None:
    rng = np.random.default_rng(5)
    C = rng.integers(0, 2, size=(37, 53)).astype(np.float32)  # full of ties
    first = dtw(C)
    for _ in range(3):
        again = dtw(C.copy())
        assert again.cost == first.cost
        np.testing.assert_array_equal(again.path, first.path)
    sub = dtw(C, subsequence=True)
    np.testing.assert_array_equal(dtw(C.copy(), subsequence=True).path, sub.path)
    band = dtw(C, band=0.2)
    np.testing.assert_array_equal(dtw(C.copy(), band=0.2).path, band.path)


def test_all_ties_square_gives_the_diagonal() -> None:
    # Every path of a zero matrix is optimal; the documented tie rule (diagonal first)
    # makes the choice canonical.
    res = dtw(np.zeros((9, 9), np.float32))
    assert res.cost == 0.0
    np.testing.assert_array_equal(res.path, np.stack([np.arange(9), np.arange(9)], 1))


def test_input_layout_and_dtype_do_not_matter() -> None:
    rng = np.random.default_rng(11)
    C = rng.random((23, 31), dtype=np.float32)
    ref = dtw(C)
    variants = [
        np.asfortranarray(C),
        C.astype(np.float64),
        np.repeat(C, 2, axis=1)[:, ::2],  # a strided view equal to C
        C.tolist(),
    ]
    for v in variants:
        res = dtw(v)
        assert res.cost == ref.cost
        np.testing.assert_array_equal(res.path, ref.path)


def test_path_cost_combinations_small_exhaustive() -> None:
    # Sanity check of the brute-force helper itself: Delannoy numbers.
    assert sum(1 for _ in all_paths(3, 3)) == 13
    assert sum(1 for _ in all_paths(4, 4)) == 63
    assert sum(1 for _ in all_paths(1, 5)) == 1
    for p in all_paths(3, 4):
        assert_valid_path(np.array(p, dtype=np.int64), 3, 4)
        assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in itertools.pairwise(p))
