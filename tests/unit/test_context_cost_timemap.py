"""Contextualization, cosine cost matrices, devices, time maps and batch alignment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avr_gui.core.align import (
    AlignmentOptions,
    align,
    align_many,
    contextualize,
    cost_matrices,
    cost_matrix,
    indices_to_seconds,
    time_map,
    time_map_table,
)
from avr_gui.core.device import resolve_device
from avr_gui.core.errors import DeviceError
from avr_gui.core.jobs import Cancelled, CancelToken

HAS_CUDA = torch.cuda.is_available()


def reference_context(F: np.ndarray) -> np.ndarray:
    F64 = np.asarray(F, dtype=np.float64)
    run = np.cumsum(F64, axis=0) / len(F64)
    return np.concatenate([F64 - F64.mean(axis=0), run - run.mean(axis=0)], axis=1)


def reference_cost(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    def unit(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)

    return 1.0 - unit(q) @ unit(c).T


# ------------------------------------------------------------------- contextualize


@pytest.mark.parametrize(("T", "d"), [(1, 3), (2, 1), (7, 5), (64, 16), (301, 8)])
def test_contextualize_matches_reference(T: int, d: int) -> None:
    F = np.random.default_rng(T * 10 + d).normal(size=(T, d)).astype(np.float32)
    out = contextualize(F)
    assert out.shape == (T, 2 * d)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous
    ref = reference_context(F)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[:, :d], F - F.astype(np.float64).mean(0), atol=1e-5)
    np.testing.assert_allclose(out.astype(np.float64).mean(axis=0), 0.0, atol=1e-5)


def test_contextualize_unit_rows() -> None:
    F = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    out = contextualize(F, unit=True)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    ref = reference_context(F)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_contextualize_zero_rows_stay_zero() -> None:
    for F in (np.zeros((5, 3), np.float32), np.ones((1, 4), np.float32)):
        out = contextualize(F, unit=True)
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out, 0.0)


def test_contextualize_accepts_other_layouts() -> None:
    F = np.random.default_rng(1).normal(size=(20, 4))
    ref = contextualize(F.astype(np.float32))
    np.testing.assert_array_equal(contextualize(F), ref)  # float64 input
    np.testing.assert_array_equal(contextualize(np.asfortranarray(F.astype(np.float32))), ref)


def test_contextualize_separates_lookalike_frames() -> None:
    # Frames 0 and 9 are identical; their running sums differ, so their
    # contextualized versions do not.
    rng = np.random.default_rng(2)
    F = rng.normal(size=(10, 4)).astype(np.float32)
    F[9] = F[0]
    out = contextualize(F, unit=True)
    assert not np.allclose(out[0], out[9], atol=1e-3)


# --------------------------------------------------------------------- cost matrix


def test_cost_matrix_matches_numpy_cosine() -> None:
    rng = np.random.default_rng(3)
    q = rng.normal(size=(7, 12)).astype(np.float32)
    c = rng.normal(size=(11, 12)).astype(np.float32)
    q[2] = 0.0
    c[4] = 0.0
    C = cost_matrix(q, c, device="cpu")
    assert C.shape == (7, 11) and C.dtype == np.float32 and C.flags.c_contiguous
    np.testing.assert_allclose(C, reference_cost(q, c), atol=1e-5)
    np.testing.assert_array_equal(C[2], 1.0)  # zero rows have no direction
    np.testing.assert_array_equal(C[:, 4], 1.0)


def test_cost_matrix_range_is_clipped() -> None:
    rng = np.random.default_rng(4)
    q = rng.normal(size=(30, 5)).astype(np.float32) * 1000
    c = np.concatenate([q, -q, q * 1e-3, -q * 7])
    C = cost_matrix(q, c, device="cpu")
    assert C.min() >= 0.0 and C.max() <= 2.0
    np.testing.assert_allclose(np.diag(C[:, :30]), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.diag(C[:, 30:60]), 2.0, atol=1e-5)


def test_cost_matrices_equal_individual_calls() -> None:
    rng = np.random.default_rng(5)
    q = rng.normal(size=(9, 8)).astype(np.float32)
    cands = [rng.normal(size=(m, 8)).astype(np.float32) for m in (1, 13, 40)]
    many = cost_matrices(q, cands, device="cpu")
    assert len(many) == 3
    for C, c in zip(many, cands, strict=True):
        assert C.shape == (9, len(c)) and C.dtype == np.float32 and C.flags.c_contiguous
        np.testing.assert_array_equal(C, cost_matrix(q, c, device="cpu"))
    auto = cost_matrices(q, cands)  # default device: CUDA if present
    for a, b in zip(auto, many, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert cost_matrices(q, [], device="cpu") == []


def test_cost_matrices_unit_flag_skips_normalisation_only() -> None:
    rng = np.random.default_rng(6)
    q = contextualize(rng.normal(size=(10, 4)), unit=True)
    c = contextualize(rng.normal(size=(12, 4)), unit=True)
    (pre,) = cost_matrices(q, [c], device="cpu", unit=True)
    np.testing.assert_allclose(pre, cost_matrix(q, c, device="cpu"), atol=1e-6)


def test_resolve_device_cpu_and_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(" CPU ") == "cpu"
    monkeypatch.setenv("AVR_DEVICE", "cpu")
    assert resolve_device(None) == "cpu"
    assert resolve_device("auto") in {"cpu", "cuda"}
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("tpu")


def test_aligners_stay_on_the_cpu_unless_cuda_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # "auto" must not even ask about CUDA for the cost matrices: asking imports torch,
    # which a command-line query on a GPU machine paid for nothing (6.0 s against 1.9 s).
    from avr_gui.core import device as device_mod

    def no_asking() -> bool:
        raise AssertionError("CUDA was looked for")

    monkeypatch.setattr(device_mod, "_cuda_available", no_asking)
    monkeypatch.setenv("AVR_DEVICE", "auto")
    assert resolve_device("auto", gpu_when_auto=False) == "cpu"
    assert resolve_device(None, gpu_when_auto=False) == "cpu"
    q = np.eye(4, dtype=np.float32)
    np.testing.assert_allclose(cost_matrix(q, q), 1.0 - np.eye(4), atol=1e-6)
    assert align(q, q).path.shape[1] == 2
    monkeypatch.setenv("AVR_DEVICE", "cpu")
    assert resolve_device("auto") == "cpu"  # the setting decides what "auto" defers to
    with pytest.raises(AssertionError, match="CUDA was looked for"):
        resolve_device("cuda", gpu_when_auto=False)  # an explicit request is honoured


@pytest.mark.skipif(HAS_CUDA, reason="a CUDA GPU is present")
def test_cuda_request_without_gpu_raises() -> None:
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(DeviceError):
        resolve_device("cuda:1")
    q = np.ones((2, 3), np.float32)
    with pytest.raises(DeviceError):
        cost_matrix(q, q, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_cuda_cost_matches_cpu() -> None:
    rng = np.random.default_rng(7)
    q = rng.normal(size=(50, 32)).astype(np.float32)
    q[3] = 0.0
    cands = [rng.normal(size=(m, 32)).astype(np.float32) for m in (5, 77, 120)]
    gpu = cost_matrices(q, cands, device="cuda")
    cpu = cost_matrices(q, cands, device="cpu")
    for g, c in zip(gpu, cpu, strict=True):
        assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.flags.c_contiguous
        np.testing.assert_allclose(g, c, atol=1e-5)
    a = align(q, cands[1], AlignmentOptions(device="cuda"))
    b = align(q, cands[1], AlignmentOptions(device="cpu"))
    assert a.draq == pytest.approx(b.draq, rel=1e-4)


# ------------------------------------------------------------------------ time map

#: query 0..3 against candidate 0..5
PATH = np.array([[0, 0], [0, 1], [1, 2], [2, 2], [2, 3], [2, 4], [3, 5]])


@pytest.mark.parametrize(
    ("keep", "reduce", "expected"),
    [
        ("query", "mean", [0.5, 2.0, 3.0, 5.0]),
        ("query", "first", [0.0, 2.0, 2.0, 5.0]),
        ("candidate", "mean", [0.0, 0.0, 1.5, 2.0, 2.0, 3.0]),
        ("candidate", "first", [0.0, 0.0, 1.0, 2.0, 2.0, 3.0]),
    ],
)
def test_time_map_hand_computed(keep: str, reduce: str, expected: list[float]) -> None:
    out = time_map(PATH, keep=keep, reduce=reduce)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


def test_time_map_defaults_and_open_path() -> None:
    np.testing.assert_array_equal(time_map(PATH), [0.5, 2.0, 3.0, 5.0])
    # A subsequence path starting at candidate column 10: one entry per kept frame.
    sub = np.array([[0, 10], [1, 10], [1, 11], [2, 12], [3, 12], [3, 13]])
    np.testing.assert_array_equal(time_map(sub, keep="query"), [10.0, 10.5, 12.0, 12.5])
    np.testing.assert_array_equal(time_map(sub, keep="candidate"), [0.5, 1.0, 2.5, 3.0])
    np.testing.assert_array_equal(time_map([[4, 9]]), [9.0])


def test_time_map_length_equals_kept_frames_on_real_paths() -> None:
    rng = np.random.default_rng(8)
    for n, m in [(20, 35), (35, 20), (1, 9), (9, 1)]:
        res = align(rng.normal(size=(n, 4)), rng.normal(size=(m, 4)))
        for keep, count in (("query", n), ("candidate", m)):
            for reduce in ("mean", "first"):
                out = time_map(res.path, keep=keep, reduce=reduce)
                assert out.shape == (count,)
                assert (np.diff(out) >= 0).all()  # a monotone path gives a monotone map


def test_indices_to_seconds_interpolates() -> None:
    ts = np.array([0.0, 0.04, 0.08, 0.2])
    out = indices_to_seconds([0, 0.5, 2, 2.25, 3], ts)
    np.testing.assert_allclose(out, [0.0, 0.02, 0.08, 0.11, 0.2], atol=1e-12)
    assert indices_to_seconds([], ts).shape == (0,)


def test_time_map_table_on_real_timestamps() -> None:
    q_times = np.array([0.0, 0.04, 0.08, 0.12])
    c_times = np.array([1.0, 1.04, 1.08, 1.12, 1.16, 1.20])
    table = time_map_table(PATH, q_times, c_times)
    assert set(table) == {"query_index", "query_time", "match_index", "match_time"}
    np.testing.assert_array_equal(table["query_index"], [0, 1, 2, 3])
    np.testing.assert_allclose(table["query_time"], q_times, atol=1e-12)
    np.testing.assert_array_equal(table["match_index"], [0.5, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(table["match_time"], [1.02, 1.08, 1.12, 1.20], atol=1e-12)

    cand = time_map_table(PATH, q_times, c_times, keep="candidate", reduce="first")
    np.testing.assert_array_equal(cand["match_index"], np.arange(6))
    np.testing.assert_allclose(cand["match_time"], c_times, atol=1e-12)
    np.testing.assert_array_equal(cand["query_index"], [0, 0, 1, 2, 2, 3])
    np.testing.assert_allclose(cand["query_time"], [0.0, 0.0, 0.04, 0.08, 0.08, 0.12], atol=1e-12)
    for v in (*table.values(), *cand.values()):
        assert v.dtype == np.float64


# --------------------------------------------------------------------- align_many


def _candidates(count: int, seed: int = 9) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    q = np.cumsum(rng.normal(size=(25, 6)), axis=0).astype(np.float32)
    cands = [
        np.cumsum(rng.normal(size=(int(rng.integers(1, 40)), 6)), axis=0).astype(np.float32)
        for _ in range(count)
    ]
    return q, cands


OPTIONS = [
    AlignmentOptions(device="cpu"),
    AlignmentOptions(device="cpu", context=False),
    AlignmentOptions(device="cpu", band=0.3),
    AlignmentOptions(device="cpu", subsequence=True),
    AlignmentOptions(device="cpu", draq_method="sampled", draq_samples=50, seed=3),
]


@pytest.mark.parametrize("opts", OPTIONS)
def test_align_many_equals_one_by_one(opts: AlignmentOptions) -> None:
    q, cands = _candidates(20)
    many = align_many(q, cands, opts, keep_cost=True)
    assert len(many) == len(cands)
    for got, c in zip(many, cands, strict=True):
        one = align(q, c, opts)
        assert got.draq == one.draq
        assert got.dtw_cost == one.dtw_cost
        assert got.shape == one.shape == (len(q), len(c))
        np.testing.assert_array_equal(got.path, one.path)
        np.testing.assert_array_equal(got.cost, one.cost)


def test_align_uses_contextualized_cosine_cost() -> None:
    q, cands = _candidates(2)
    res = align(q, cands[0], AlignmentOptions(device="cpu"))
    expected = cost_matrix(contextualize(q, unit=True), contextualize(cands[0], unit=True))
    np.testing.assert_allclose(res.cost, expected, atol=1e-6)
    raw = align(q, cands[0], AlignmentOptions(device="cpu", context=False))
    np.testing.assert_allclose(raw.cost, cost_matrix(q, cands[0]), atol=1e-6)
    assert res.normalized_cost == pytest.approx(res.dtw_cost / (len(q) + len(cands[0])))
    assert align_many(q, [cands[0]])[0].cost is None  # not kept by default


def test_align_many_progress_and_workers() -> None:
    q, cands = _candidates(37)
    calls: list[tuple[int, int, str]] = []
    one = align_many(q, cands, workers=1, progress=lambda d, t, msg: calls.append((d, t, msg)))
    two = align_many(q, cands, workers=2)
    assert calls, "progress was never reported"
    assert calls[-1][:2] == (37, 37)
    assert all(t == 37 for _, t, _ in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)
    assert all(isinstance(msg, str) for _, _, msg in calls)
    for a, b in zip(one, two, strict=True):
        assert a.draq == b.draq and a.dtw_cost == b.dtw_cost
        np.testing.assert_array_equal(a.path, b.path)
    assert align_many(q, []) == []


def test_align_many_cancel() -> None:
    q, cands = _candidates(5)
    token = CancelToken()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled):
        align_many(q, cands, cancel=token)


def test_align_many_cancel_between_blocks() -> None:
    q, cands = _candidates(100)
    token = CancelToken()
    seen: list[int] = []

    def progress(done: int, total: int, msg: str) -> None:
        seen.append(done)
        token.cancel()  # the user presses "Stop" after the first block

    with pytest.raises(Cancelled):
        align_many(q, cands, progress=progress, cancel=token)
    assert len(seen) == 1 and seen[0] < 100


# ------------------------------------------------------------ regressions (once bugs)


def test_cost_matrix_is_scale_invariant_for_large_features() -> None:
    q = np.random.default_rng(11).normal(size=(4, 3)).astype(np.float32)
    expected = cost_matrix(q, q, device="cpu")
    np.testing.assert_allclose(cost_matrix(q * 1e20, q * 1e20, device="cpu"), expected, atol=1e-5)


def test_contextualize_unit_rows_for_large_features() -> None:
    F = np.random.default_rng(12).normal(size=(6, 3)).astype(np.float32) * 1e20
    out = contextualize(F, unit=True)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_one_pass_cosine_cost_matches_numpy_subtract_and_clip() -> None:
    # The fused kernel must give numpy's numbers, NaN and infinities included.
    from avr_gui.core.align._kernels import one_minus_clipped

    rng = np.random.default_rng(3)
    sims = (rng.standard_normal((40, 57)) * 1.5).astype(np.float32)
    sims[0, :7] = [np.nan, np.inf, -np.inf, 1.0, -1.0, 3.0, -0.0]
    ref = sims.copy()
    np.subtract(np.float32(1.0), ref, out=ref)
    np.clip(ref, 0.0, 2.0, out=ref)
    one_minus_clipped(sims)
    assert np.array_equal(sims, ref, equal_nan=True)
    assert np.isnan(sims[0, 0]) and sims[0, 1] == 0.0 and sims[0, 2] == 2.0
