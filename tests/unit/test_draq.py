"""DRAQ: visit probabilities, exact vs sampled random-path cost, determinism, behaviour."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from avr_gui.core.align import (
    AlignmentOptions,
    align,
    align_cost,
    draq,
    dtw,
    expected_random_cost,
    random_cost,
    random_path_costs,
    visit_probabilities,
)

# ------------------------------------------------ reference law (DESIGN.md, literally)


def _step_law(i: int, j: int) -> dict[tuple[int, int], Fraction]:
    """Successor distribution from 1-based (i, j) under the rejection law, exactly.

    Row step w.p. i/(i+j) and, independently, column step w.p. j/(i+j); the empty
    draw is redrawn; on the first row/column only the remaining move is possible.
    """
    if i == 1:
        return {(1, j - 1): Fraction(1)}
    if j == 1:
        return {(i - 1, 1): Fraction(1)}
    pr = Fraction(i, i + j)
    pc = Fraction(j, i + j)
    accept = 1 - (1 - pr) * (1 - pc)
    return {
        (i - 1, j - 1): pr * pc / accept,
        (i - 1, j): pr * (1 - pc) / accept,
        (i, j - 1): (1 - pr) * pc / accept,
    }


def exact_visit_probabilities(n: int, m: int) -> np.ndarray:
    P: dict[tuple[int, int], Fraction] = {(n, m): Fraction(1)}
    # Every predecessor of (i, j) has a larger i, or the same i and a larger j.
    for i in range(n, 0, -1):
        for j in range(m, 0, -1):
            p = P.get((i, j), Fraction(0))
            if p == 0 or (i, j) == (1, 1):
                continue
            for cell, q in _step_law(i, j).items():
                P[cell] = P.get(cell, Fraction(0)) + p * q
    out = np.zeros((n, m))
    for (i, j), p in P.items():
        out[i - 1, j - 1] = float(p)
    return out


def exact_expected_length(n: int, m: int) -> Fraction:
    """E[number of cells on a random path] by first-step recursion, independent of P."""
    E: dict[tuple[int, int], Fraction] = {(1, 1): Fraction(1)}
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if (i, j) != (1, 1):
                E[(i, j)] = 1 + sum(q * E[c] for c, q in _step_law(i, j).items())
    return E[(n, m)]


def simulate_visits(n: int, m: int, paths: int, seed: int) -> np.ndarray:
    """Visit frequencies of the rejection law, simulated draw by draw with NumPy."""
    rng = np.random.default_rng(seed)
    i = np.full(paths, n - 1)
    j = np.full(paths, m - 1)
    counts = np.zeros((n, m), np.int64)
    counts[n - 1, m - 1] = paths
    active = np.ones(paths, bool)
    while active.any():
        idx = np.flatnonzero(active)
        ii, jj = i[idx], j[idx]
        big_i = ii + 1.0
        big_j = jj + 1.0
        di = rng.random(idx.size) < big_i / (big_i + big_j)
        dj = rng.random(idx.size) < big_j / (big_i + big_j)
        di = np.where(jj == 0, True, np.where(ii == 0, False, di))
        dj = np.where(ii == 0, True, np.where(jj == 0, False, dj))
        moved = di | dj  # an empty draw is redrawn at the next iteration
        i[idx] = ii - (di & moved)
        j[idx] = jj - (dj & moved)
        mv = idx[moved]
        np.add.at(counts, (i[mv], j[mv]), 1)
        active[mv[(i[mv] == 0) & (j[mv] == 0)]] = False
    return counts / paths


def random_walk(T: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return np.cumsum(rng.normal(size=(T, d)), axis=0).astype(np.float32)


def warped_copy(F: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """Resample F along a monotone time warp whose speed varies between 0.5x and 2x."""
    t = np.linspace(0.0, 3.0 * np.pi, length)
    speed = 2.0 ** np.sin(t + rng.uniform(0, np.pi))  # in [0.5, 2]
    pos = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    pos = pos / pos[-1] * (len(F) - 1)
    src = np.arange(len(F), dtype=np.float64)
    out = np.stack([np.interp(pos, src, F[:, k]) for k in range(F.shape[1])], axis=1)
    out += rng.normal(scale=0.05, size=out.shape)
    return out.astype(np.float32)


# ------------------------------------------------------------ visit probabilities


SHAPES = [(1, 1), (1, 4), (4, 1), (2, 2), (2, 7), (3, 5), (5, 3), (4, 5), (6, 6), (7, 4)]


@pytest.mark.parametrize(("n", "m"), SHAPES)
def test_visit_probabilities_exact(n: int, m: int) -> None:
    P = visit_probabilities(n, m)
    assert P.shape == (n, m)
    assert P.dtype == np.float64
    assert P[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert P[n - 1, m - 1] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(P, exact_visit_probabilities(n, m), rtol=1e-12, atol=1e-15)
    expected_length = float(exact_expected_length(n, m))
    assert float(P.sum(dtype=np.float64)) == pytest.approx(expected_length, rel=1e-12)
    assert max(n, m) <= expected_length <= n + m - 1


def test_visit_probabilities_match_simulated_rejection_law() -> None:
    n, m, paths = 4, 5, 200_000
    P = visit_probabilities(n, m).astype(np.float64)
    freq = simulate_visits(n, m, paths, seed=20240901)
    se = np.sqrt(P * (1 - P) / paths)
    assert np.all(np.abs(freq - P) <= 4 * se + 1e-12), np.abs(freq - P) / np.maximum(se, 1e-12)


def test_visit_probabilities_positive_and_repeatable() -> None:
    P = visit_probabilities(17, 29)
    assert (P > 0).all()
    np.testing.assert_array_equal(P, visit_probabilities(17, 29))
    # Every path visits each row and each column at least once.
    assert (P.sum(axis=1) >= 1 - 1e-5).all()
    assert (P.sum(axis=0) >= 1 - 1e-5).all()


@pytest.mark.parametrize("cell", [(0, 4), (3, 3), (5, 0), (2, 7)])
def test_sampler_visit_frequency_matches_p(cell: tuple[int, int]) -> None:
    # With a one-hot cost matrix a random path costs 1 exactly when it visits the cell.
    n, m, k = 6, 9, 20_000
    C = np.zeros((n, m), np.float32)
    C[cell] = 1.0
    costs = random_path_costs(C, k, seed=3)
    assert set(np.unique(costs)) <= {0.0, 1.0}
    p = float(visit_probabilities(n, m)[cell])
    assert abs(costs.mean() - p) <= 4 * np.sqrt(p * (1 - p) / k)


def test_ones_matrix_gives_path_lengths() -> None:
    n, m = 9, 14
    C = np.ones((n, m), np.float32)
    lengths = random_path_costs(C, 5000, seed=1)
    assert lengths.min() >= max(n, m)
    assert lengths.max() <= n + m - 1
    np.testing.assert_array_equal(lengths, np.round(lengths))
    assert expected_random_cost(C) == pytest.approx(float(exact_expected_length(n, m)), rel=1e-5)


# ------------------------------------------------------- sampled converges to exact


def test_sampled_mean_converges_to_exact() -> None:
    rng = np.random.default_rng(0)
    C = rng.random((25, 35), dtype=np.float32)
    exact = expected_random_cost(C)
    k = 20_000
    for seed in range(5):
        costs = random_path_costs(C, k, seed=seed)
        se = costs.std(ddof=1) / np.sqrt(k)
        assert abs(costs.mean() - exact) < 4 * se


def test_sampling_error_shrinks_with_k() -> None:
    rng = np.random.default_rng(1)
    C = rng.random((20, 30), dtype=np.float32)
    exact = expected_random_cost(C)
    seeds = range(20)
    err_small = np.mean([abs(random_path_costs(C, 100, s).mean() - exact) for s in seeds])
    err_large = np.mean([abs(random_path_costs(C, 10_000, s).mean() - exact) for s in seeds])
    # Standard error falls as 1/sqrt(k): about 10x here.
    assert err_large < err_small / 4


def test_random_paths_never_beat_dtw() -> None:
    rng = np.random.default_rng(2)
    C = rng.random((15, 22), dtype=np.float32)
    best = dtw(C).cost
    costs = random_path_costs(C, 3000, seed=9)
    assert (costs >= best * (1 - 1e-6)).all()
    assert expected_random_cost(C) > best


# -------------------------------------------------------------------- determinism


def test_seeded_determinism() -> None:
    rng = np.random.default_rng(3)
    C = rng.random((30, 41), dtype=np.float32)
    a = random_path_costs(C, 500, seed=7)
    b = random_path_costs(C.copy(), 500, seed=7)
    assert a.shape == (500,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    c = random_path_costs(C, 500, seed=8)
    assert not np.array_equal(a, c)
    s1 = random_cost(C, method="sampled", samples=500, seed=7)
    s2 = random_cost(C, method="sampled", samples=500, seed=7)
    assert s1 == s2 == float(a.mean())
    assert random_cost(C, method="sampled", samples=500, seed=8) != s1
    d1 = draq(C, 1.0, method="sampled", samples=300, seed=4)
    d2 = draq(C, 1.0, method="sampled", samples=300, seed=4)
    assert d1 == d2


def test_exact_random_cost_is_default_and_deterministic() -> None:
    C = np.random.default_rng(4).random((12, 19), dtype=np.float32)
    assert random_cost(C) == expected_random_cost(C) == random_cost(C, method="exact")
    assert expected_random_cost(C) == expected_random_cost(C.astype(np.float64))


# ---------------------------------------------------------------- DRAQ behaviour


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_draq_of_warped_copy_far_below_unrelated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q = random_walk(120, 16, rng)
    warped = warped_copy(q, 150, rng)
    unrelated = random_walk(150, 16, rng)
    a_warp = align(q, warped)
    a_other = align(q, unrelated)
    assert a_warp.shape == a_other.shape == (120, 150)
    assert 0.0 < a_warp.draq < 0.5 * a_other.draq
    # The returned DRAQ is the documented ratio on the returned cost matrix.
    assert a_warp.draq == draq(a_warp.cost, a_warp.dtw_cost)
    assert a_warp.dtw_cost == dtw(a_warp.cost).cost


@pytest.mark.parametrize(
    ("n", "m"), [(1, 1), (1, 7), (7, 1), (5, 5), (7, 13), (13, 7), (64, 64), (130, 97), (3, 200)]
)
def test_align_cost_draq_identical_to_separate(n: int, m: int) -> None:
    C = np.random.default_rng(n * 1000 + m).random((n, m), dtype=np.float32) * 2
    fused = align_cost(C)
    separate = draq(C, dtw(C).cost)
    assert fused.draq == separate
    assert fused.dtw_cost == dtw(C).cost
    np.testing.assert_array_equal(fused.path, dtw(C).path)
    assert fused.draq == pytest.approx(dtw(C).cost / expected_random_cost(C), rel=1e-12)


def test_sampled_draq_within_two_percent_of_exact() -> None:
    rng = np.random.default_rng(10)
    q = random_walk(120, 16, rng)
    for cand in (warped_copy(q, 140, rng), random_walk(100, 16, rng)):
        exact = align(q, cand).draq
        sampled = align(q, cand, AlignmentOptions(draq_method="sampled", draq_samples=2000))
        assert sampled.draq == pytest.approx(exact, rel=0.02)
        assert sampled.draq != exact  # really sampled


def test_subsequence_draq_uses_spanned_columns() -> None:
    C = np.random.default_rng(12).random((8, 40), dtype=np.float32)
    res = align_cost(C, AlignmentOptions(subsequence=True))
    sub = dtw(C, subsequence=True)
    a, b = sub.span
    assert res.dtw_cost == sub.cost
    assert res.draq == draq(np.ascontiguousarray(C[:, a : b + 1]), sub.cost)


def test_zero_cost_matrix_is_perfectly_alignable() -> None:
    C = np.zeros((6, 9), np.float32)
    assert expected_random_cost(C) == 0.0
    assert draq(C, 0.0) == 0.0
    assert align_cost(C).draq == 0.0


def test_constant_matrix_draq_is_path_length_ratio() -> None:
    n, m = 10, 16
    C = np.full((n, m), 0.5, np.float32)
    value = align_cost(C).draq
    expected = max(n, m) / float(exact_expected_length(n, m))
    assert value == pytest.approx(expected, rel=1e-5)
    assert value < 1.0


@pytest.mark.parametrize(("n", "m"), [(5, 5), (60, 200), (300, 300), (1000, 1000), (1500, 90)])
def test_compact_weights_keep_the_expectation_exact(n: int, m: int) -> None:
    # DRAQ's cached weights drop cells a random path almost never visits; the
    # expectation must not move beyond float rounding.
    C = np.random.default_rng(n + m).random((n, m), dtype=np.float32) * 2
    dense = float((visit_probabilities(n, m) * C.astype(np.float64)).sum())
    assert expected_random_cost(C) == pytest.approx(dense, rel=1e-6)


@pytest.mark.parametrize(
    ("n", "m"), [(1, 1), (1, 9), (9, 1), (7, 4), (40, 70), (300, 300), (900, 120)]
)
def test_banded_visit_computation_matches_the_dense_one(n: int, m: int) -> None:
    from avr_gui.core.align import _kernels as K

    eps = 1e-15
    vals, lo, offsets = K.compact_visit_probabilities(n, m, eps)
    ref_vals, ref_lo, ref_offsets = K.compact_rows(K.visit_probabilities(n, m), eps)
    dense = np.zeros((n, m))
    ref = np.zeros((n, m))
    for i in range(n):
        dense[i, lo[i] : lo[i] + offsets[i + 1] - offsets[i]] = vals[offsets[i] : offsets[i + 1]]
        ref[i, ref_lo[i] : ref_lo[i] + ref_offsets[i + 1] - ref_offsets[i]] = ref_vals[
            ref_offsets[i] : ref_offsets[i + 1]
        ]
    # Identical up to float32 rounding and the mass dropped below eps.
    np.testing.assert_allclose(dense, ref, rtol=1e-6, atol=10 * eps)
