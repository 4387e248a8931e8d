"""Partial (open-begin-end) alignment: modes, spans, exactness, coverage, batch, errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from avr_gui.core.align import AlignmentOptions, align, contextualize, cost_matrix, dtw
from avr_gui.core.align.draq import expected_random_cost
from avr_gui.core.align.partial import (
    MODES,
    ExcerptAlignment,
    PartialAlignment,
    align_partial,
    align_partial_cost,
    align_partial_many,
)
from avr_gui.core.errors import (
    DimensionMismatchError,
    EmptySequenceError,
    InputError,
    NonFiniteError,
)
from avr_gui.core.jobs import Cancelled, CancelToken

RAW = AlignmentOptions(context=False)

# ---------------------------------------------------------------------------- helpers


class Signal:
    """A smooth random d-dimensional signal of continuous time (sums of sinusoids)."""

    def __init__(self, seed: int, length: int = 200, dims: int = 16) -> None:
        rng = np.random.default_rng(seed)
        self.amp = rng.normal(size=(3, dims))
        self.freq = rng.uniform(0.5, 3.0, size=(3, dims)) * 2 * np.pi / length
        self.phase = rng.uniform(0, 2 * np.pi, size=(3, dims))
        self.noise = np.random.default_rng(seed + 10_000)

    def __call__(self, t: np.ndarray, noise: float = 0.05) -> np.ndarray:
        t = np.asarray(t, np.float64)[:, None, None]
        x = (self.amp * np.sin(self.freq * t + self.phase)).sum(axis=1)
        return (x + noise * self.noise.normal(size=x.shape)).astype(np.float32)


def warp_times(rng: np.random.Generator, start: float, stop: float) -> np.ndarray:
    """Source times of a warped copy of frames start..stop: speeds vary in [0.5, 2]."""
    count = int((stop - start) / 0.5) + 2
    u = np.arange(count)
    speed = 2.0 ** np.sin(2 * np.pi * u / rng.uniform(25, 60) + rng.uniform(0, 2 * np.pi))
    times = start + np.concatenate([[0.0], np.cumsum(speed[:-1])])
    return times[times <= stop]


def mapping_error(path: np.ndarray, truth: np.ndarray, axis: int = 0) -> float:
    """Mean |mean partner on the path - true source time| over frames of ``axis``."""
    other = 1 - axis
    errors = [
        abs(path[path[:, axis] == u, other].mean() - truth[u]) for u in np.unique(path[:, axis])
    ]
    return float(np.mean(errors))


def assert_valid(res: PartialAlignment, n: int, m: int, min_cover: float) -> None:
    p = res.path
    assert p.dtype == np.int64 and p.ndim == 2 and p.shape[1] == 2
    steps = {tuple(s) for s in np.diff(p, axis=0).tolist()}
    assert steps <= {(0, 1), (1, 0), (1, 1)}
    assert p[0, 0] == 0 or p[0, 1] == 0, "starts on the first row or column"
    assert p[-1, 0] == n - 1 or p[-1, 1] == m - 1, "ends on the last row or column"
    assert res.query_span == (p[0, 0], p[-1, 0])
    assert res.match_span == (p[0, 1], p[-1, 1])
    k = max(1, math.ceil(min_cover * min(n, m) - 1e-9))
    assert p[-1, 0] - p[0, 0] + 1 >= k and p[-1, 1] - p[0, 1] + 1 >= k
    assert res.mode in MODES
    assert isinstance(res.alignment, ExcerptAlignment)
    assert res.alignment.shape == (n, m)


def brute_force(C: np.ndarray, min_cover: float) -> float:
    """min over covering (start, end) pairs of DTW(sub-matrix) / (excerpt lengths)."""
    n, m = C.shape
    k = max(1, math.ceil(min_cover * min(n, m) - 1e-9))
    starts = [(0, j) for j in range(m)] + [(i, 0) for i in range(1, n)]
    ends = [(n - 1, j) for j in range(m)] + [(i, m - 1) for i in range(n - 1)]
    best = np.inf
    for i0, j0 in starts:
        for i1, j1 in ends:
            if i1 - i0 + 1 < k or j1 - j0 + 1 < k:
                continue
            d = dtw(C[i0 : i1 + 1, j0 : j1 + 1]).cost
            best = min(best, d / (i1 - i0 + 1 + j1 - j0 + 1))
    return best


def diagonal_zeros(n: int, m: int, cells: list[tuple[int, int]]) -> np.ndarray:
    C = np.ones((n, m), np.float32)
    for i, j in cells:
        C[i, j] = 0.0
    return C


# ------------------------------------------------------------- tiny, hand-computed


def test_full_on_a_diagonal() -> None:
    C = diagonal_zeros(4, 4, [(0, 0), (1, 1), (2, 2), (3, 3)])
    res = align_partial_cost(C)
    assert res.mode == "full"
    assert res.path.tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    assert res.alignment.dtw_cost == 0.0 and res.normalized_cost == 0.0


def test_query_in_match_hand_computed() -> None:
    # Three query frames sit on candidate frames 2..4 of 7.
    C = diagonal_zeros(3, 7, [(0, 2), (1, 3), (2, 4)])
    res = align_partial_cost(C)
    assert res.mode == "query_in_match"
    assert res.path.tolist() == [[0, 2], [1, 3], [2, 4]]
    assert (res.query_span, res.match_span) == ((0, 2), (2, 4))


def test_match_in_query_hand_computed() -> None:
    C = diagonal_zeros(3, 7, [(0, 2), (1, 3), (2, 4)]).T
    res = align_partial_cost(C)
    assert res.mode == "match_in_query"
    assert (res.query_span, res.match_span) == ((2, 4), (0, 2))


@pytest.mark.parametrize("transpose", [False, True])
def test_overlap_hand_computed(transpose: bool) -> None:
    # The query's last three frames are the candidate's first three (or the reverse).
    C = diagonal_zeros(5, 5, [(2, 0), (3, 1), (4, 2)])
    C = np.ascontiguousarray(C.T) if transpose else C
    res = align_partial_cost(C)
    assert res.mode == "overlap"
    spans = ((2, 4), (0, 2))
    assert (res.query_span, res.match_span) == (spans[::-1] if transpose else spans)


def test_ratio_and_draq_by_hand() -> None:
    # Costs 0.1 on the excerpt diagonal, 1 elsewhere: D = 0.3 over W = 3 + 3.
    C = np.ones((3, 6), np.float32)
    for i in range(3):
        C[i, i + 2] = 0.1
    res = align_partial_cost(C, keep_cost=True)
    assert res.match_span == (2, 4)
    assert res.alignment.dtw_cost == pytest.approx(0.3, rel=1e-6)
    assert res.normalized_cost == pytest.approx(0.3 / 6, rel=1e-6)
    # DRAQ on the spanned sub-matrix only, not the whole pair.
    sub = C[0:3, 2:5]
    assert res.draq == pytest.approx(0.3 / expected_random_cost(sub), rel=1e-6)
    assert res.alignment.cost is C or np.array_equal(res.alignment.cost, C)


def test_coverage_rejects_the_cheap_corner() -> None:
    # One free cell in the top-right corner: the cheapest path of all, but a path of
    # one cell covers 1 frame of each clip; the diagonal (cost 0.2 a cell) must win.
    C = np.full((6, 6), 0.2, np.float32)
    C[0, 5] = 0.0
    C[5, 0] = 0.0
    res = align_partial_cost(C, min_cover=0.5)
    assert res.path[-1, 0] - res.path[0, 0] + 1 >= 3
    assert res.normalized_cost == pytest.approx(0.1, rel=1e-6)
    # Allowing one-frame excerpts, the corner is optimal.
    tiny = align_partial_cost(C, min_cover=1 / 6)
    assert tiny.normalized_cost == 0.0 and len(tiny.path) == 1


def test_stalling_path_is_repaired_exactly() -> None:
    # The cheapest way into the bottom-left end runs down column 1 (one candidate frame
    # for all three query frames), which does not cover 2 frames; the best covering
    # path into that end starts at (1, 0) and must be found, not skipped.
    C = np.array(
        [
            [0.497, 0.187, 0.886, 0.882, 0.550],
            [0.706, 0.451, 0.801, 0.834, 0.764],
            [0.243, 0.024, 0.658, 0.411, 0.894],
        ],
        np.float32,
    )
    res = align_partial_cost(C, min_cover=0.5)
    assert res.normalized_cost == pytest.approx(brute_force(C, 0.5), rel=1e-6)
    assert (res.query_span, res.match_span) == ((1, 2), (0, 1))


def test_optimal_against_brute_force() -> None:
    rng = np.random.default_rng(7)
    for t in range(150):
        n, m = (int(x) for x in rng.integers(1, 8, size=2))
        C = rng.random((n, m)).astype(np.float32)
        if t % 3 == 0:
            C = np.round(C * 3) / 3  # many ties
        mc = (0.2, 0.34, 0.5, 0.8, 1.0)[t % 5]
        res = align_partial_cost(C, min_cover=mc)
        assert_valid(res, n, m, mc)
        best = brute_force(C, mc)
        # Certified within 1 % of the optimum (the descent's stopping rule).
        assert best - 1e-7 <= res.normalized_cost <= best * 1.01 + 1e-7, (n, m, mc)


def test_min_cover_one_is_whole_clip_dtw() -> None:
    rng = np.random.default_rng(3)
    C = rng.random((9, 9)).astype(np.float32)
    res = align_partial_cost(C, min_cover=1.0)
    assert res.mode == "full"
    assert res.alignment.dtw_cost == pytest.approx(dtw(C).cost, rel=1e-5)


def test_single_frames() -> None:
    res = align_partial_cost(np.array([[0.5, 0.1, 0.7]], np.float32))
    assert res.query_span == (0, 0)
    assert_valid(res, 1, 3, 0.5)
    res = align_partial(np.ones((1, 4)), np.ones((1, 4)))
    assert res.mode == "full" and res.path.tolist() == [[0, 0]]


# ---------------------------------------------------------------- synthetic clips


@pytest.mark.parametrize("seed", range(4))
def test_query_inside_candidate(seed: int) -> None:
    sig, rng = Signal(seed), np.random.default_rng(100 + seed)
    base = sig(np.arange(200))
    length = int(rng.uniform(0.4, 0.6) * 200)
    start = int(rng.integers(0, 200 - length))
    src = warp_times(rng, start, start + length - 1)
    query = sig(src)
    for options, tolerance in ((RAW, 1.0), (None, 3.0)):
        res = align_partial(query, base, options)
        assert_valid(res, len(query), 200, 0.5)
        assert res.mode == "query_in_match"
        assert abs(res.match_span[0] - src[0]) <= 5
        assert abs(res.match_span[1] - src[-1]) <= 5
        assert mapping_error(res.path, src) < tolerance
        # Ranked on the aligned part only: far cheaper than aligning the whole clips.
        assert res.normalized_cost < 0.5 * align(query, base, options).normalized_cost


@pytest.mark.parametrize("seed", range(4))
def test_candidate_inside_query(seed: int) -> None:
    sig, rng = Signal(seed), np.random.default_rng(200 + seed)
    base = sig(np.arange(200))
    length = int(rng.uniform(0.4, 0.6) * 200)
    start = int(rng.integers(0, 200 - length))
    src = warp_times(rng, start, start + length - 1)
    res = align_partial(base, sig(src), RAW)
    assert res.mode == "match_in_query"
    assert abs(res.query_span[0] - src[0]) <= 5 and abs(res.query_span[1] - src[-1]) <= 5
    assert mapping_error(res.path, src, axis=1) < 1.0


@pytest.mark.parametrize("seed", range(4))
def test_two_warped_full_copies(seed: int) -> None:
    sig, rng = Signal(seed), np.random.default_rng(300 + seed)
    a, b = warp_times(rng, 0, 199), warp_times(rng, 0, 199)
    for options in (RAW, None):
        res = align_partial(sig(a), sig(b), options)
        assert res.mode == "full", (res.query_span, res.match_span, len(a), len(b))


@pytest.mark.parametrize("seed", range(4))
def test_overlapping_clips(seed: int) -> None:
    # Query: frames 0..120 warped; candidate: frames 80..199 warped. They share 80..120.
    sig, rng = Signal(seed), np.random.default_rng(400 + seed)
    qsrc, csrc = warp_times(rng, 0, 120), warp_times(rng, 80, 199)
    res = align_partial(sig(qsrc), sig(csrc), RAW, min_cover=0.25)
    assert res.mode == "overlap"
    true_q0 = int(np.argmax(qsrc >= 80))
    true_c1 = int(np.flatnonzero(csrc <= 120)[-1])
    assert abs(res.query_span[0] - true_q0) <= 5 and res.query_span[1] == len(qsrc) - 1
    assert res.match_span[0] == 0 and abs(res.match_span[1] - true_c1) <= 5


def test_unrelated_clips_cost_more_than_excerpts() -> None:
    sig, rng = Signal(0), np.random.default_rng(9)
    base = sig(np.arange(200))
    query = sig(warp_times(rng, 60, 150))
    other = Signal(99)(np.arange(200))
    for options in (RAW, None):
        true = align_partial(query, base, options)
        wrong = align_partial(query, other, options)
        assert true.normalized_cost * 5 < wrong.normalized_cost
        assert true.draq < wrong.draq


# ------------------------------------------------------------------ batch, options


def test_many_matches_single_calls_and_reports_progress() -> None:
    sig, rng = Signal(1), np.random.default_rng(5)
    query = sig(warp_times(rng, 50, 140))
    cands = [sig(np.arange(200)), Signal(2)(np.arange(150)), sig(np.arange(30, 180))]
    calls: list[tuple[int, int]] = []
    many = align_partial_many(query, cands, progress=lambda d, t, _: calls.append((d, t)))
    assert calls[-1] == (3, 3)
    for res, cand in zip(many, cands, strict=True):
        one = align_partial(query, cand)
        assert one.path.tolist() == res.path.tolist()
        assert one.draq == res.draq and one.mode == res.mode
    assert align_partial_many(query, []) == []


def test_read_only_features() -> None:
    # Stored features come memory-mapped, read-only.
    sig, rng = Signal(6), np.random.default_rng(6)
    base, query = sig(np.arange(120)), sig(warp_times(rng, 30, 90))
    base.setflags(write=False)
    query.setflags(write=False)
    for options in (RAW, None):
        res = align_partial(query, base, options)
        assert res.mode == "query_in_match"


def test_cancel() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        align_partial_many(np.ones((5, 3)), [np.ones((5, 3))], cancel=token)


def test_context_realigns_the_excerpts() -> None:
    # With context the excerpts are contextualized on their own and aligned whole: the
    # result is what align() gives on the trimmed clips.
    sig, rng = Signal(4), np.random.default_rng(11)
    base = sig(np.arange(200))
    query = sig(warp_times(rng, 40, 130))
    res = align_partial(query, base, keep_cost=True)
    (i0, i1), (j0, j1) = res.query_span, res.match_span
    trimmed = align(query[i0 : i1 + 1], base[j0 : j1 + 1])
    assert res.alignment.dtw_cost == pytest.approx(trimmed.dtw_cost, rel=1e-4)
    assert res.draq == pytest.approx(trimmed.draq, rel=1e-4)
    assert res.normalized_cost == pytest.approx(trimmed.normalized_cost, rel=1e-4)
    assert (res.path - [i0, j0]).tolist() == trimmed.path.tolist()
    # The kept matrix is the whole pair's per-frame cost, on which the path is drawn.
    assert res.alignment.cost.shape == (len(query), 200)
    np.testing.assert_allclose(res.alignment.cost, cost_matrix(query, base), atol=1e-6)


def test_whole_clip_context_would_misplace_the_excerpt() -> None:
    # Why excerpts are located on per-frame costs: on whole-clip contextualized features
    # the running sum differs between an excerpt and its clip, and the span drifts.
    sig, rng = Signal(1), np.random.default_rng(101)
    base = sig(np.arange(200))
    src = warp_times(rng, 60, 160)
    query = sig(src)
    C = cost_matrix(contextualize(query, unit=True), contextualize(base, unit=True))
    drift = align_partial_cost(C).match_span
    located = align_partial(query, base).match_span

    def err(span: tuple[int, int]) -> float:
        return max(abs(span[0] - src[0]), abs(span[1] - src[-1]))

    assert err(located) <= 2 < err(drift)


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), "half", None])
def test_min_cover_out_of_range(bad: object) -> None:
    with pytest.raises(InputError, match="min_cover"):
        align_partial(np.ones((4, 2)), np.ones((4, 2)), min_cover=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="min_cover"):
        align_partial_cost(np.ones((4, 4)), min_cover=bad)  # type: ignore[arg-type]


def test_bad_inputs_raise_typed_errors() -> None:
    good = np.ones((4, 3), np.float32)
    with pytest.raises(EmptySequenceError):
        align_partial(np.ones((0, 3)), good)
    with pytest.raises(EmptySequenceError):
        align_partial_many(good, [good, np.ones((0, 3))])
    nan = good.copy()
    nan[2, 1] = np.nan
    with pytest.raises(NonFiniteError):
        align_partial(nan, good)
    with pytest.raises(NonFiniteError):
        align_partial(good, nan)
    with pytest.raises(DimensionMismatchError):
        align_partial(good, np.ones((4, 5)))
    bad_cost = np.ones((3, 3), np.float32)
    bad_cost[1, 1] = np.inf
    with pytest.raises(NonFiniteError):
        align_partial_cost(bad_cost)
    with pytest.raises(EmptySequenceError):
        align_partial_cost(np.ones((0, 3)))
    with pytest.raises(InputError, match="band"):
        align_partial(good, good, AlignmentOptions(band=0.2))


# ----------------------------------------------------------------------- timing


def test_timing_report() -> None:
    """Printed, not asserted (run with -s): partial vs whole-clip alignment, 300 x 900."""
    from avr_gui.core.align.partial import locate_excerpts

    sig = Signal(5, length=900, dims=64)
    rng = np.random.default_rng(0)
    query, cand = sig(warp_times(rng, 200, 899)[:300]), sig(np.arange(900))

    def best_of(fn, reps: int = 7) -> float:
        fn()
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times) * 1e3

    C = cost_matrix(query, cand)
    t_dtw = best_of(lambda: dtw(C))
    t_locate = best_of(lambda: locate_excerpts(C, 0.5))
    t_align = best_of(lambda: align(query, cand))
    t_partial = best_of(lambda: align_partial(query, cand))
    print(
        f"\n{C.shape[0]}x{C.shape[1]}: DP: dtw {t_dtw:.2f} ms, partial {t_locate:.2f} ms "
        f"({t_locate / t_dtw:.1f}x); end to end: align {t_align:.2f} ms, align_partial "
        f"{t_partial:.2f} ms ({t_partial / t_align:.1f}x)"
    )


def test_given_per_frame_costs_give_the_same_alignments_as_computing_them() -> None:
    # shown_alignments hands the first pass's matrices to the query-whole pass.
    rng = np.random.default_rng(11)
    q = rng.standard_normal((60, 8)).astype(np.float32)
    cands = [rng.standard_normal((m, 8)).astype(np.float32) for m in (70, 90, 61)]
    first = align_partial_many(q, cands, keep_cost=True)
    costs = [pa.alignment.cost for pa in first]
    for query_whole in (False, True):
        fresh = align_partial_many(q, cands, query_whole=query_whole)
        reused = align_partial_many(q, cands, query_whole=query_whole, costs=costs)
        for a, b in zip(fresh, reused, strict=True):
            assert a.mode == b.mode and a.query_span == b.query_span
            assert a.match_span == b.match_span
            np.testing.assert_array_equal(a.alignment.path, b.alignment.path)
            assert a.alignment.draq == b.alignment.draq
    with pytest.raises(InputError, match="one cost matrix per candidate"):
        align_partial_many(q, cands, costs=costs[:2])
    with pytest.raises(InputError, match="does not belong to candidate 1"):
        align_partial_many(q, cands, costs=[costs[0], costs[2], costs[1]])
