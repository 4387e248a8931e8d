"""Banded DTW reads and checks only its band; DRAQ checks the cells it weighs itself.

Also: the banded and full kernels agree bit for bit where the band covers the matrix,
and the full and banded kernels agree with plain row-by-row recurrences.
"""

from __future__ import annotations

import numpy as np
import pytest

import avr_gui.core.align._kernels as K
from avr_gui.core.align import AlignmentOptions, align_cost, band_limits, dtw
from avr_gui.core.errors import NonFiniteError

RADIUS = 0.2
# Shapes exercising the first row, whole multi-row blocks and the remainder rows.
SHAPES = [(1, 1), (1, 9), (9, 1), (3, 5), (8, 8), (13, 7), (17, 40), (40, 17), (61, 61)]


def _band_mask(n: int, m: int, radius: float) -> np.ndarray:
    lo, hi = band_limits(n, m, radius)
    cols = np.arange(m)
    return (cols >= lo[:, None]) & (cols <= hi[:, None])


def _matrix(n: int, m: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 1000 * n + m).random((n, m), dtype=np.float32)


@pytest.mark.parametrize(("n", "m"), SHAPES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_bad_value_inside_the_band_is_named(n: int, m: int, value: float) -> None:
    inside = np.argwhere(_band_mask(n, m, RADIUS))
    rng = np.random.default_rng(n * m)
    for k in rng.choice(len(inside), size=min(6, len(inside)), replace=False):
        i, j = (int(v) for v in inside[k])
        C = _matrix(n, m)
        C[i, j] = value
        word = "NaN" if np.isnan(value) else "infinity"
        with pytest.raises(NonFiniteError, match=f"{word}.*row {i}, column {j}"):
            dtw(C, band=RADIUS)


def test_first_bad_cell_inside_the_band_is_named() -> None:
    n, m = 30, 30
    mask = _band_mask(n, m, RADIUS)
    C = _matrix(n, m)
    # Bad cells outside the band come first in row-major order; they are not read.
    C[~mask] = np.nan
    C[20, 21] = np.inf
    C[25, 24] = np.nan
    assert mask[20, 21] and mask[25, 24]
    with pytest.raises(NonFiniteError, match=r"infinity.*row 20, column 21"):
        dtw(C, band=RADIUS)


@pytest.mark.parametrize(("n", "m"), [s for s in SHAPES if min(s) > 2])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_bad_values_outside_the_band_are_not_read(n: int, m: int, value: float) -> None:
    mask = _band_mask(n, m, RADIUS)
    assert not mask.all()
    C = _matrix(n, m)
    clean = dtw(C, band=RADIUS)
    C[~mask] = value
    res = dtw(C, band=RADIUS)
    assert res.cost == clean.cost
    np.testing.assert_array_equal(res.path, clean.path)


@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_draq_with_a_band_still_checks_outside_it(method: str) -> None:
    n, m = 40, 40
    mask = _band_mask(n, m, RADIUS)
    C = _matrix(n, m)
    i, j = 35, 2  # far off the diagonal: the banded DTW never reads it
    assert not mask[i, j]
    C[i, j] = np.nan
    dtw(C, band=RADIUS)  # fine: not read
    opts = AlignmentOptions(band=RADIUS, draq_method=method, draq_samples=20)
    with pytest.raises(NonFiniteError, match=f"NaN.*row {i}, column {j}"):
        align_cost(C, opts)


def test_draq_with_a_band_matches_the_unbanded_check_when_finite() -> None:
    C = _matrix(50, 45)
    banded = align_cost(C, AlignmentOptions(band=RADIUS))
    assert np.isfinite(banded.draq)
    assert banded.dtw_cost == dtw(C, band=RADIUS).cost


@pytest.mark.parametrize(("n", "m"), [*SHAPES, (2, 70), (70, 2), (100, 33), (5, 200)])
def test_band_covering_the_matrix_is_bit_identical_to_full(n: int, m: int) -> None:
    for seed in range(3):
        C = _matrix(n, m, seed)
        # Quantised costs make ties common, so the tie rules are compared too.
        if seed == 2:
            C = np.round(C * 4) / 4
        full = dtw(C)
        banded = dtw(C, band=1.0)
        assert banded.cost == full.cost
        np.testing.assert_array_equal(banded.path, full.path)


# ------------------------------------------------------------ full kernel vs a row loop


def _row_loop(C: np.ndarray, open_begin: bool) -> tuple[np.ndarray, np.ndarray]:
    """The DTW recurrence one cell at a time in float32, tie rules of the kernels."""
    n, m = C.shape
    D = np.empty((n, m), np.float32)
    S = np.empty((n, m), np.uint8)
    for j in range(m):
        if open_begin or j == 0:
            D[0, j] = C[0, j]
            S[0, j] = 3
        else:
            D[0, j] = np.float32(D[0, j - 1] + C[0, j])
            S[0, j] = 2
    for i in range(1, n):
        D[i, 0] = np.float32(D[i - 1, 0] + C[i, 0])
        S[i, 0] = 1
        for j in range(1, m):
            best, move = D[i - 1, j - 1], 0
            if D[i - 1, j] < best:
                best, move = D[i - 1, j], 1
            if D[i, j - 1] < best:
                best, move = D[i, j - 1], 2
            D[i, j] = np.float32(best + C[i, j])
            S[i, j] = move
    return D[n - 1], S


ODD_SHAPES = [(1, 1), (1, 5), (5, 1), (2, 3), (7, 9), (8, 1), (8, 8), (9, 4), (15, 16)]
ODD_SHAPES += [(16, 3), (17, 17), (23, 1), (25, 31), (33, 12), (40, 40)]


@pytest.mark.parametrize(("n", "m"), ODD_SHAPES)
@pytest.mark.parametrize("open_begin", [False, True])
def test_full_kernel_matches_a_row_loop(n: int, m: int, open_begin: bool) -> None:
    for seed in range(2):
        C = _matrix(n, m, seed)
        if seed == 1:
            C = np.round(C * 3) / 3  # many ties
        last_ref, S_ref = _row_loop(C, open_begin)
        S = np.full((n, m), 255, np.uint8)
        last, checksum = K.dtw_full(C, open_begin, S)
        np.testing.assert_array_equal(last, last_ref)
        np.testing.assert_array_equal(S, S_ref)
        assert checksum == pytest.approx(float(C.astype(np.float64).sum()), rel=1e-5)


# ------------------------------------------------------- banded kernel vs a row loop


@pytest.mark.parametrize(("n", "m"), [*SHAPES, (2, 70), (70, 2), (100, 33), (203, 157)])
@pytest.mark.parametrize("radius", [0.01, 0.05, 0.1, 0.3, 1.0])
def test_band_kernel_matches_the_row_loop(n: int, m: int, radius: float) -> None:
    # dtw_banded runs the wavefront kernel (dtw_window) on these contiguous bands;
    # _dtw_banded_rows is the plain one-row-at-a-time recurrence over the same band.
    lo, hi = band_limits(n, m, radius)
    for seed in range(2):
        C = _matrix(n, m, seed)
        if seed == 1:
            C = np.round(C * 3) / 3  # many ties
        end, S = K.dtw_banded(C, lo, hi)
        S_ref = np.full_like(S, 255)
        end_ref = K._dtw_banded_rows(C, lo, hi, S_ref)
        assert end == end_ref
        np.testing.assert_array_equal(S, S_ref)
