"""Every bad input raises the right typed error, with a message a person can act on."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from avr_gui.core.align import (
    AlignmentOptions,
    align,
    align_cost,
    align_many,
    band_limits,
    contextualize,
    cost_matrices,
    cost_matrix,
    draq,
    dtw,
    expected_random_cost,
    indices_to_seconds,
    random_cost,
    random_path_costs,
    time_map,
    time_map_table,
    visit_probabilities,
)
from avr_gui.core.errors import (
    AvrError,
    DimensionMismatchError,
    EmptySequenceError,
    InputError,
    NonFiniteError,
    ShapeError,
)

GOOD_F = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
GOOD_C = np.random.default_rng(1).random((7, 9), dtype=np.float32)


def raises(exc_type: type[Exception], fn: Callable[[], object], *fragments: str) -> str:
    """Call fn, require exactly ``exc_type``, every message fragment, and the hierarchy."""
    with pytest.raises(AvrError) as info:
        fn()
    err = info.value
    assert type(err) is exc_type, f"expected {exc_type.__name__}, got {type(err).__name__}"
    assert isinstance(err, AvrError)
    assert isinstance(err, ValueError)
    msg = str(err)
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return msg


# Every public entry point that takes feature sequences, as f(x) with x in each slot.
FEATURE_SINKS: dict[str, Callable[[object], object]] = {
    "contextualize": lambda x: contextualize(x),
    "contextualize_unit": lambda x: contextualize(x, unit=True),
    "cost_matrix_query": lambda x: cost_matrix(x, GOOD_F, device="cpu"),
    "cost_matrix_candidate": lambda x: cost_matrix(GOOD_F, x, device="cpu"),
    "cost_matrices_second": lambda x: cost_matrices(GOOD_F, [GOOD_F, x], device="cpu"),
    "align_query": lambda x: align(x, GOOD_F),
    "align_candidate": lambda x: align(GOOD_F, x),
    "align_many_candidate": lambda x: align_many(GOOD_F, [GOOD_F, x]),
}

# Every public entry point that takes a cost matrix.
COST_SINKS: dict[str, Callable[[object], object]] = {
    "dtw": lambda c: dtw(c),
    # A band covering every cell: a narrower band leaves the cells outside it unread
    # (tests/unit/test_dtw_band_finite.py), so a bad value there is not an error.
    "dtw_band": lambda c: dtw(c, band=1.0),
    "dtw_subsequence": lambda c: dtw(c, subsequence=True),
    "draq_exact": lambda c: draq(c, 1.0),
    "draq_sampled": lambda c: draq(c, 1.0, method="sampled", samples=10),
    "expected_random_cost": lambda c: expected_random_cost(c),
    "random_cost_sampled": lambda c: random_cost(c, method="sampled", samples=10),
    "random_path_costs": lambda c: random_path_costs(c, 10),
    "align_cost": lambda c: align_cost(c),
    "align_cost_band": lambda c: align_cost(c, AlignmentOptions(band=0.5)),
    "align_cost_subsequence": lambda c: align_cost(c, AlignmentOptions(subsequence=True)),
    "align_cost_sampled": lambda c: align_cost(c, AlignmentOptions(draq_method="sampled")),
}

ALL_SINKS = {**{f"F:{k}": v for k, v in FEATURE_SINKS.items()}, **COST_SINKS}


# ------------------------------------------------------------------ shapes and types


@pytest.mark.parametrize("sink", ALL_SINKS.values(), ids=ALL_SINKS.keys())
def test_empty_sequence(sink: Callable[[object], object]) -> None:
    raises(EmptySequenceError, lambda: sink(np.zeros((0, 4), np.float32)), "no frames")


@pytest.mark.parametrize("sink", ALL_SINKS.values(), ids=ALL_SINKS.keys())
@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (np.ones(5, np.float32), "1-D"),
        (np.ones((2, 3, 4), np.float32), "3-D"),
        (np.float32(3.0), "0-D"),
    ],
    ids=["1d", "3d", "scalar"],
)
def test_wrong_number_of_dimensions(
    sink: Callable[[object], object], bad: np.ndarray, fragment: str
) -> None:
    raises(ShapeError, lambda: sink(bad), fragment, "2-D")


@pytest.mark.parametrize("sink", ALL_SINKS.values(), ids=ALL_SINKS.keys())
def test_zero_feature_dims(sink: Callable[[object], object]) -> None:
    raises(ShapeError, lambda: sink(np.zeros((5, 0), np.float32)), "zero feature dimensions")


@pytest.mark.parametrize("sink", ALL_SINKS.values(), ids=ALL_SINKS.keys())
@pytest.mark.parametrize(
    "bad",
    [
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[1.0, None], [2.0, 3.0]], dtype=object),
        np.array([[1, 2]], dtype="datetime64[s]"),
    ],
    ids=["str", "object", "datetime"],
)
def test_non_numeric_arrays(sink: Callable[[object], object], bad: np.ndarray) -> None:
    raises(ShapeError, lambda: sink(bad), "expected numbers")


@pytest.mark.parametrize("sink", ALL_SINKS.values(), ids=ALL_SINKS.keys())
def test_ragged_lists(sink: Callable[[object], object]) -> None:
    raises(ShapeError, lambda: sink([[1.0, 2.0], [3.0]]), "not a numeric array")


def test_complex_features_rejected() -> None:
    bad = GOOD_F.astype(np.complex64) * (1 + 1j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ComplexWarning numpy emits when casting
        with pytest.raises(ShapeError):
            contextualize(bad)


def test_mismatched_dims() -> None:
    q = np.ones((5, 4), np.float32)
    c = np.ones((6, 3), np.float32)
    msg = raises(DimensionMismatchError, lambda: cost_matrix(q, c), "3 feature dimensions", "4")
    assert "same encoder" in msg
    raises(DimensionMismatchError, lambda: cost_matrices(q, [q, c]), "candidate 1")
    raises(DimensionMismatchError, lambda: align(q, c), "candidate 0")
    raises(DimensionMismatchError, lambda: align_many(q, [q, q, c]), "candidate 2")
    assert issubclass(DimensionMismatchError, ShapeError)


def test_messages_name_the_array() -> None:
    empty = np.zeros((0, 4), np.float32)
    raises(EmptySequenceError, lambda: align(empty, GOOD_F), "query features")
    raises(EmptySequenceError, lambda: align_many(GOOD_F, [GOOD_F, empty]), "candidate 1")
    raises(EmptySequenceError, lambda: dtw(np.zeros((3, 0))[:0]), "cost matrix")


# ---------------------------------------------------------------------- non-finite


NONFINITE = [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
# First row, a row of a 4-row block, the remainder rows, first/last columns.
COST_CELLS = [(0, 0), (0, 8), (2, 3), (3, 5), (5, 0), (6, 8)]


@pytest.mark.parametrize("sink", COST_SINKS.values(), ids=COST_SINKS.keys())
@pytest.mark.parametrize(("value", "word"), NONFINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("cell", COST_CELLS, ids=[f"{i}-{j}" for i, j in COST_CELLS])
def test_nonfinite_cost(
    sink: Callable[[object], object], value: float, word: str, cell: tuple[int, int]
) -> None:
    C = GOOD_C.copy()
    C[cell] = value
    raises(NonFiniteError, lambda: sink(C), word, f"row {cell[0]}, column {cell[1]}")


@pytest.mark.parametrize("sink", COST_SINKS.values(), ids=COST_SINKS.keys())
def test_nonfinite_cost_names_first_bad_cell(sink: Callable[[object], object]) -> None:
    C = GOOD_C.copy()
    C[4, 7] = np.inf
    C[5, 1] = np.nan
    raises(NonFiniteError, lambda: sink(C), "infinity", "row 4, column 7")


@pytest.mark.parametrize("sink", FEATURE_SINKS.values(), ids=FEATURE_SINKS.keys())
@pytest.mark.parametrize(("value", "word"), NONFINITE, ids=["nan", "inf", "-inf"])
def test_nonfinite_features(sink: Callable[[object], object], value: float, word: str) -> None:
    F = GOOD_F.copy()
    F[3, 2] = value
    raises(NonFiniteError, lambda: sink(F), word, "row 3, column 2", "finite")


def test_nonfinite_cost_large_matrix() -> None:
    # Deep inside a large matrix, where a sum-based check could be diluted.
    C = np.random.default_rng(2).random((203, 157), dtype=np.float32)
    C[201, 3] = np.nan
    for sink in COST_SINKS.values():
        raises(NonFiniteError, lambda s=sink: s(C), "NaN", "row 201, column 3")


# --------------------------------------------------------------- option values


BAD_RADII = [0.0, -0.1, 1.5, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("radius", BAD_RADII, ids=[str(r) for r in BAD_RADII])
def test_bad_band_radius(radius: float) -> None:
    raises(InputError, lambda: dtw(GOOD_C, band=radius), "band radius", "(0, 1]")
    raises(InputError, lambda: band_limits(7, 9, radius), "band radius")
    raises(InputError, lambda: align_cost(GOOD_C, AlignmentOptions(band=radius)), "band")
    raises(InputError, lambda: align(GOOD_F, GOOD_F, AlignmentOptions(band=radius)), "band")


def test_band_with_subsequence() -> None:
    raises(InputError, lambda: dtw(GOOD_C, band=0.5, subsequence=True), "cannot be combined")
    opts = AlignmentOptions(band=0.5, subsequence=True)
    raises(InputError, lambda: align_cost(GOOD_C, opts), "cannot be combined")
    raises(InputError, lambda: align(GOOD_F, GOOD_F, opts), "cannot be combined")


@pytest.mark.parametrize("samples", [0, -5])
def test_bad_sample_count(samples: int) -> None:
    raises(InputError, lambda: random_path_costs(GOOD_C, samples), "at least 1", str(samples))
    raises(
        InputError,
        lambda: random_cost(GOOD_C, method="sampled", samples=samples),
        "random paths",
    )
    raises(InputError, lambda: draq(GOOD_C, 1.0, method="sampled", samples=samples), "paths")
    opts = AlignmentOptions(draq_method="sampled", draq_samples=samples)
    raises(InputError, lambda: align_cost(GOOD_C, opts), "random paths")


def test_negative_seed() -> None:
    raises(InputError, lambda: random_path_costs(GOOD_C, 10, seed=-1), "seed", "-1")
    raises(InputError, lambda: random_cost(GOOD_C, method="sampled", seed=-3), "seed")
    raises(InputError, lambda: draq(GOOD_C, 1.0, method="sampled", seed=-3), "seed")
    opts = AlignmentOptions(draq_method="sampled", seed=-2)
    raises(InputError, lambda: align_cost(GOOD_C, opts), "seed")


@pytest.mark.parametrize("method", ["bogus", "Exact", "", "sample"])
def test_unknown_draq_method(method: str) -> None:
    raises(InputError, lambda: random_cost(GOOD_C, method=method), "unknown DRAQ method")
    raises(InputError, lambda: draq(GOOD_C, 1.0, method=method), "exact", "sampled")
    opts = AlignmentOptions(draq_method=method)
    raises(InputError, lambda: align_cost(GOOD_C, opts), repr(method))
    raises(InputError, lambda: align(GOOD_F, GOOD_F, opts), "unknown DRAQ method")


@pytest.mark.parametrize(("n", "m"), [(0, 5), (5, 0), (-1, 3)])
def test_bad_visit_probability_shape(n: int, m: int) -> None:
    raises(InputError, lambda: visit_probabilities(n, m), "at least 1 x 1")


# ---------------------------------------------------------------------- time maps


BAD_PATHS = {
    "1d": np.array([0, 1, 2]),
    "three_columns": np.array([[0, 0, 0], [1, 1, 1]]),
    "3d": np.zeros((2, 2, 2), np.int64),
    "empty": np.zeros((0, 2), np.int64),
    "backwards_row": np.array([[0, 0], [1, 1], [0, 2]]),
    "backwards_col": np.array([[0, 0], [1, 1], [2, 0]]),
    "row_jump": np.array([[0, 0], [2, 1]]),
    "col_jump": np.array([[0, 0], [1, 1], [1, 3]]),
    "repeated_cell": np.array([[0, 0], [1, 1], [1, 1], [2, 2]]),
}


@pytest.mark.parametrize("path", BAD_PATHS.values(), ids=BAD_PATHS.keys())
def test_malformed_paths(path: np.ndarray) -> None:
    ts = np.arange(10) * 0.04
    raises(ShapeError, lambda: time_map(path), "path")
    raises(ShapeError, lambda: time_map(path, keep="candidate", reduce="first"), "path")
    raises(ShapeError, lambda: time_map_table(path, ts, ts), "path")


def test_bad_time_map_options() -> None:
    path = np.array([[0, 0], [1, 1]])
    raises(InputError, lambda: time_map(path, keep="match"), "keep", "'match'")
    raises(InputError, lambda: time_map(path, reduce="median"), "reduce", "'median'")


def test_bad_timestamps() -> None:
    ts = np.array([0.0, 0.04, 0.08])
    raises(ShapeError, lambda: indices_to_seconds([0, 1], []), "non-empty 1-D")
    raises(ShapeError, lambda: indices_to_seconds([0, 1], np.zeros((3, 2))), "1-D")
    raises(InputError, lambda: indices_to_seconds([0, 3], ts), "out of range", "3 timestamps")
    raises(InputError, lambda: indices_to_seconds([-1], ts), "out of range")
    path = np.array([[0, 0], [1, 1], [2, 2], [3, 3]])
    raises(InputError, lambda: time_map_table(path, ts, np.arange(4.0)), "out of range")


def test_hierarchy() -> None:
    for cls in (EmptySequenceError, ShapeError, DimensionMismatchError, NonFiniteError):
        assert issubclass(cls, InputError)
        assert issubclass(cls, ValueError)
        assert issubclass(cls, AvrError)


# ------------------------------------------------------------ regressions (once bugs)


@pytest.mark.parametrize("seed", [2**63, 2**64])
def test_seed_too_large(seed: int) -> None:
    raises(InputError, lambda: random_path_costs(GOOD_C, 10, seed=seed), "seed")


def test_float_path_with_integer_values_is_accepted() -> None:
    path = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(time_map(path), [0.0, 1.5])


def test_fractional_path_rejected() -> None:
    path = np.array([[0.0, 0.0], [0.5, 1.7], [1.0, 2.0]])
    raises(ShapeError, lambda: time_map(path), "path")


def test_nan_index_rejected() -> None:
    raises(InputError, lambda: indices_to_seconds([0.0, np.nan], [0.0, 0.04, 0.08]), "index")
