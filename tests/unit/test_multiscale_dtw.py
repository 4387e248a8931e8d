"""Multiscale DTW for long clips and the windowed (banded) DTW kernel it runs on."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.align import (
    AlignmentOptions,
    align,
    align_auto,
    cost_matrix,
    dtw,
    multiscale_dtw,
    multiscale_dtw_cost,
    random_path_costs,
)
from avr_gui.core.align import _kernels as K
from avr_gui.core.align import multiscale as MS
from avr_gui.core.align.context import contextualize
from avr_gui.core.errors import AlignmentTooLargeError, AvrError, NonFiniteError

MOVES = {(0, 1), (1, 0), (1, 1)}


# ---------------------------------------------------------------------------- helpers


def walk(rng: np.random.Generator, t: int, d: int) -> np.ndarray:
    return np.cumsum(rng.standard_normal((t, d)), axis=0).astype(np.float32)


def warped_copy(rng: np.random.Generator, base: np.ndarray, speeds: np.ndarray) -> np.ndarray:
    """``base`` replayed at the given per-frame speeds (0 = pause), plus noise."""
    idx = np.clip(np.round(np.cumsum(speeds)), 0, len(base) - 1).astype(int)
    noise = 0.3 * rng.standard_normal((len(idx), base.shape[1])).astype(np.float32)
    return base[idx] + noise


def related_pair(kind: str, n: int = 1500, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    base = walk(rng, n, d)
    speeds = {
        "equal": np.ones(n),
        "double": np.full(n // 2, 2.0),
        "pauses": np.r_[np.ones(n // 3), np.zeros(n // 4), np.ones(n - n // 3), np.zeros(50)],
        "wobble": np.clip(1.0 + 0.6 * np.sin(np.arange(n) / 40.0), 0.1, 2.0),
    }[kind]
    q = contextualize(base, unit=True)
    c = contextualize(warped_copy(rng, base, speeds), unit=True)
    return q, c


def assert_valid_path(path: np.ndarray, n: int, m: int, *, pinned: bool = True) -> None:
    assert path.dtype == np.int64 and path.shape[1] == 2
    steps = {tuple(s) for s in np.diff(path, axis=0).tolist()}
    assert steps <= MOVES
    assert path[0, 0] == 0 and path[-1, 0] == n - 1
    if pinned:
        assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]


def brute_band_dtw(C: np.ndarray, lo: np.ndarray, hi: np.ndarray, open_ends: bool) -> float:
    """Plain float64 DP over the window cells: the reference for the kernel."""
    n, m = C.shape
    D = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(lo[i], hi[i] + 1):
            if i == 0:
                D[0, j] = C[0, j] if (open_ends or j == 0) else D[0, j - 1] + C[0, j]
                continue
            best = D[i - 1, j]
            if j > 0:
                best = min(best, D[i - 1, j - 1], D[i, j - 1])
            D[i, j] = best + C[i, j]
    last = D[n - 1, lo[-1] : hi[-1] + 1]
    return float(last.min() if open_ends else D[n - 1, m - 1])


def random_windows(rng: np.random.Generator, n: int, m: int, pinned: bool):
    """Random windows meeting the kernel's contract (monotone, connected)."""
    lo = np.sort(rng.integers(0, m, n))
    hi = np.sort(rng.integers(0, m, n))
    hi = np.maximum(hi, lo)
    for i in range(1, n):  # connected: row i starts at most one past row i-1's end
        lo[i] = min(lo[i], hi[i - 1] + 1)
        hi[i] = max(hi[i], lo[i])
    hi = np.maximum.accumulate(hi)
    if pinned:
        lo[0], hi[-1] = 0, m - 1
        hi = np.maximum.accumulate(hi)
    return lo.astype(np.int64), hi.astype(np.int64)


def dense_costs(C: np.ndarray):
    def fill(lo, hi, i0, i1, out):
        k = 0
        for i in range(i0, i1):
            w = hi[i] - lo[i] + 1
            out[k : k + w] = C[i, lo[i] : hi[i] + 1]
            k += w

    return fill


# --------------------------------------------------------------- the window kernel


@pytest.mark.parametrize("open_ends", [False, True], ids=["pinned", "open"])
def test_window_kernel_matches_brute_force(open_ends: bool) -> None:
    rng = np.random.default_rng(3)
    for _ in range(150):
        n, m = (int(x) for x in rng.integers(1, 24, 2))
        C = rng.random((n, m), dtype=np.float32)
        lo, hi = random_windows(rng, n, m, pinned=not open_ends)
        cost, path, checksum = MS.band_dtw(dense_costs(C), lo, hi, m, open_ends=open_ends)
        ref = brute_band_dtw(C, lo, hi, open_ends)
        assert cost == pytest.approx(ref, rel=1e-5, abs=1e-5)
        assert_valid_path(path, n, m, pinned=not open_ends)
        assert np.all((path[:, 1] >= lo[path[:, 0]]) & (path[:, 1] <= hi[path[:, 0]]))
        assert C[path[:, 0], path[:, 1]].sum(dtype=np.float64) == pytest.approx(cost, rel=1e-5)
        cells = np.concatenate([C[i, lo[i] : hi[i] + 1] for i in range(n)])
        assert checksum == pytest.approx(cells.sum(dtype=np.float64), rel=1e-5)


def test_window_kernel_in_small_blocks_equals_one_block(monkeypatch) -> None:
    # Costs arrive a block of rows at a time; the split must not change anything.
    rng = np.random.default_rng(4)
    C = rng.random((97, 80), dtype=np.float32)
    lo, hi = random_windows(rng, 97, 80, pinned=True)
    whole = MS.band_dtw(dense_costs(C), lo, hi, 80)
    monkeypatch.setattr(MS, "_BLOCK_CELLS", 37)
    split = MS.band_dtw(dense_costs(C), lo, hi, 80)
    assert whole[0] == split[0]
    np.testing.assert_array_equal(whole[1], split[1])


def test_full_band_equals_full_dtw_exactly() -> None:
    rng = np.random.default_rng(5)
    for n, m in [(1, 1), (1, 7), (7, 1), (5, 9), (64, 33), (203, 157)]:
        C = rng.random((n, m), dtype=np.float32)
        full, banded = dtw(C), dtw(C, band=1.0)
        assert banded.cost == full.cost
        np.testing.assert_array_equal(banded.path, full.path)


def test_legacy_banded_kernel_accepts_any_windows() -> None:
    # partial.py still calls K.dtw_banded; irregular windows take the row loop.
    rng = np.random.default_rng(6)
    C = rng.random((6, 8), dtype=np.float32)
    lo = np.array([0, 2, 1, 3, 4, 5], np.int64)  # not monotone
    hi = np.array([3, 4, 5, 6, 7, 7], np.int64)
    end, S = K.dtw_banded(C, lo, hi)
    assert end == pytest.approx(brute_band_dtw(C, lo, hi, False), rel=1e-6)
    path = K.backtrack(S, lo, 5, 7)
    assert_valid_path(path, 6, 8)


# ------------------------------------------------------------------ multiscale DTW


@pytest.mark.parametrize("kind", ["equal", "double", "pauses", "wobble"])
def test_multiscale_cost_within_one_percent_of_exact(kind: str, monkeypatch) -> None:
    # A small coarsest level forces several levels on a pair small enough to check.
    monkeypatch.setattr(MS, "BASE_CELLS", 2**14)
    q, c = related_pair(kind)
    exact = dtw(cost_matrix(q, c))
    approx, stats = multiscale_dtw(q, c, unit=True)
    assert stats.levels >= 3
    assert_valid_path(approx.path, *exact.shape)
    assert approx.cost <= exact.cost * 1.01
    # A real path: never below the optimum, but for float32 rounding of the costs
    # (BLAS and the band kernel sum the dot products in different orders).
    assert approx.cost >= exact.cost - 1e-7 * len(approx.path)


def test_multiscale_of_a_cost_matrix_matches_feature_version(monkeypatch) -> None:
    monkeypatch.setattr(MS, "BASE_CELLS", 2**14)
    q, c = related_pair("wobble", n=900)
    C = cost_matrix(q, c)
    from_matrix, _ = multiscale_dtw_cost(C)
    exact = dtw(C)
    assert from_matrix.cost <= exact.cost * 1.01
    assert_valid_path(from_matrix.path, *C.shape)


def test_multiscale_subsequence_locates_a_short_query(monkeypatch) -> None:
    monkeypatch.setattr(MS, "BASE_CELLS", 2**12)
    rng = np.random.default_rng(8)
    clip = walk(rng, 3000, 12)
    q = clip[1200:1500] + 0.05 * rng.standard_normal((300, 12)).astype(np.float32)
    res, _ = multiscale_dtw(q, clip, subsequence=True)
    exact = dtw(cost_matrix(q, clip), subsequence=True)
    assert abs(res.span[0] - 1200) <= 2 and abs(res.span[1] - 1499) <= 2
    assert res.cost <= exact.cost * 1.01
    assert_valid_path(res.path, 300, 3000, pinned=False)


def test_band_cells_grow_with_n_plus_m_not_n_times_m() -> None:
    q, c = related_pair("wobble", n=12000, d=4)
    _, stats = multiscale_dtw(q, c, unit=True)
    n, m = q.shape[0], c.shape[0]
    assert stats.cells[0] <= MS.BASE_CELLS  # the exact coarsest level
    # Each refined level (coarsest first, so level k is pooled by 2 ** (levels-1-k)):
    # about 2 * RADIUS cells per frame of n + m, whatever n * m is.
    for k, cells in enumerate(stats.cells[1:], start=1):
        f = 2 ** (stats.levels - 1 - k)
        assert cells <= (-(-n // f) + -(-m // f)) * (2 * MS.RADIUS + 8)
    assert n * m > 80 * stats.cells[-1]


def test_project_band_contract() -> None:
    rng = np.random.default_rng(9)
    for _ in range(50):
        nc, mc = (int(x) for x in rng.integers(2, 40, 2))
        C = rng.random((nc, mc), dtype=np.float32)
        path = dtw(C).path
        n = nc * 2 - int(rng.integers(0, 2))
        m = mc * 2 - int(rng.integers(0, 2))
        lo, hi = MS.project_band(path, (2, 2), (n, m), int(rng.integers(1, 5)))
        assert K.window_contract(lo, hi, m, True)
        for i, j in path:  # every fine cell under the coarse path is inside the band
            for r in range(2 * i, min(n, 2 * i + 2)):
                assert lo[r] <= min(2 * j, m - 1) and hi[r] >= min(2 * j + 1, m - 1)


# --------------------------------------------------------------- the switch itself


def test_below_the_switch_align_auto_is_align() -> None:
    rng = np.random.default_rng(10)
    q, c = walk(rng, 120, 8), walk(rng, 90, 8)
    for opts in (AlignmentOptions(), AlignmentOptions(band=0.3, draq_method="sampled")):
        a, b = align(q, c, opts, keep_cost=False), align_auto(q, c, opts)
        assert (a.draq, a.dtw_cost, a.shape) == (b.draq, b.dtw_cost, b.shape)
        np.testing.assert_array_equal(a.path, b.path)


def test_past_the_switch_dtw_and_align_auto_go_multiscale(monkeypatch) -> None:
    monkeypatch.setattr(MS, "MULTISCALE_CELLS", 10_000)
    monkeypatch.setattr(MS, "BASE_CELLS", 2**12)
    q, c = related_pair("double", n=400, d=8)
    C = cost_matrix(q, c)
    assert MS.needs_multiscale(*C.shape)
    res = dtw(C)  # the public function switches by itself
    assert_valid_path(res.path, *C.shape)
    out = align_auto(q, c, AlignmentOptions(context=False, draq_samples=50, seed=3))
    assert out.cost is None and out.shape == C.shape
    assert out.dtw_cost == pytest.approx(res.cost, rel=1e-4)
    # Same random paths as on the dense matrix, costs computed from the features.
    baseline = random_path_costs(C, 50, 3).mean()
    assert out.draq == pytest.approx(out.dtw_cost / baseline, rel=1e-5)


def test_random_path_costs_from_features_equal_dense_ones() -> None:
    q, c = related_pair("pauses", n=300, d=8)
    dense = random_path_costs(cost_matrix(q, c), 20, 11)
    lazy = MS.random_path_costs_features(q, c, 20, 11)
    np.testing.assert_allclose(lazy, dense, rtol=1e-5)


def test_nonfinite_cost_past_the_switch_is_named(monkeypatch) -> None:
    monkeypatch.setattr(MS, "MULTISCALE_CELLS", 1000)
    monkeypatch.setattr(MS, "BASE_CELLS", 256)
    C = np.random.default_rng(12).random((60, 50), dtype=np.float32)
    C[41, 7] = np.nan
    with pytest.raises(NonFiniteError, match="row 41, column 7"):
        dtw(C)


def test_past_the_limit_a_one_line_error(monkeypatch) -> None:
    monkeypatch.setattr(MS, "MULTISCALE_CELLS", 10_000)
    monkeypatch.setattr(MS, "MAX_BAND_CELLS", 5_000)
    q, c = related_pair("equal", n=400, d=8)
    for call in (
        lambda: align_auto(q, c),
        lambda: align_auto(q, c, AlignmentOptions(band=0.2)),
        lambda: multiscale_dtw(q, c),
    ):
        with pytest.raises(AlignmentTooLargeError) as info:
            call()
        assert isinstance(info.value, AvrError)
        msg = str(info.value)
        assert "\n" not in msg and "limit" in msg


def test_bad_radius_is_an_input_error() -> None:
    q, c = related_pair("equal", n=50, d=4)
    for radius in (0, -3, 1.5):
        with pytest.raises(AvrError, match="radius"):
            multiscale_dtw(q, c, radius=radius)


def test_past_the_switch_subsequence_baseline_spans_the_match(monkeypatch) -> None:
    monkeypatch.setattr(MS, "MULTISCALE_CELLS", 10_000)
    monkeypatch.setattr(MS, "BASE_CELLS", 2**12)
    rng = np.random.default_rng(13)
    clip = walk(rng, 1500, 8)
    q = clip[600:800] + 0.05 * rng.standard_normal((200, 8)).astype(np.float32)
    opts = AlignmentOptions(context=False, subsequence=True, draq_samples=40, seed=5)
    out = align_auto(q, clip, opts)
    a, b = int(out.path[0, 1]), int(out.path[-1, 1])
    assert abs(a - 600) <= 2 and abs(b - 799) <= 2
    # The baseline is the sampled one on the candidate frames the path spans.
    ref = align(q, clip, AlignmentOptions(**{**opts.__dict__, "draq_method": "sampled"}))
    # Near-zero costs of near-identical frames: compare with an absolute tolerance
    # (float32 cancellation in 1 - cos differs between BLAS and the band kernel).
    assert out.dtw_cost == pytest.approx(ref.dtw_cost, abs=1e-5)
    assert out.draq == pytest.approx(ref.draq, abs=1e-4)
