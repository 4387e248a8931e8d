"""The shared kernel pool: reused across batches, safe to use from its own threads."""

from __future__ import annotations

import numpy as np
import pytest

import avr_gui.core.align.workers as workers_mod
from avr_gui.core.align.pair import align_many
from avr_gui.core.align.workers import default_workers, kernel_pool


@pytest.fixture
def four_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with four usable cores (the shared pool exists there)."""
    monkeypatch.setattr(workers_mod, "usable_cores", lambda: 4)
    monkeypatch.setattr(workers_mod, "_pool", None)  # not one sized for another machine


def _pairs(seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((40, 8)).astype(np.float32)
    return q, [rng.standard_normal((int(m), 8)).astype(np.float32) for m in (30, 45, 60)]


def test_batches_share_one_pool(four_cores: None) -> None:
    with kernel_pool() as a, kernel_pool() as b, kernel_pool(default_workers()) as c:
        assert a is b is c
        assert list(a.map(lambda x: x * 2, range(5))) == [0, 2, 4, 6, 8]


def test_other_counts_get_their_own_pool_or_run_inline(four_cores: None) -> None:
    with kernel_pool() as shared, kernel_pool(default_workers() + 1) as private:
        assert private is not shared
        assert list(private.map(abs, [-1, 2, -3])) == [1, 2, 3]
    with kernel_pool(1) as inline:
        assert not hasattr(inline, "submit")  # no threads at all
        assert list(inline.map(abs, [-4])) == [4]


def test_nested_batches_run_inline_instead_of_waiting_on_themselves(four_cores: None) -> None:
    q, cands = _pairs()
    want = [a.dtw_cost for a in align_many(q, cands)]
    with kernel_pool() as pool:
        assert hasattr(pool, "submit")
        # A batch submitted from a pool thread: with a two-thread pool and both threads
        # waiting on their own sub-batches this would deadlock if it re-entered the pool.
        futures = [pool.submit(align_many, q, cands) for _ in range(2 * default_workers())]
        got = [[a.dtw_cost for a in f.result(timeout=60)] for f in futures]
    assert all(g == want for g in got)


def test_worker_count_does_not_change_results() -> None:
    q, cands = _pairs(1)
    ref = align_many(q, cands)
    for workers in (1, 3):
        res = align_many(q, cands, workers=workers)
        for a, b in zip(ref, res, strict=True):
            assert a.dtw_cost == b.dtw_cost and a.draq == b.draq
            np.testing.assert_array_equal(a.path, b.path)


def test_two_cores_run_batches_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers_mod, "usable_cores", lambda: 2)
    assert default_workers() == 1
    with kernel_pool() as pool:
        assert not hasattr(pool, "submit")  # no threads: measured faster on 2 cores
    q, cands = _pairs(2)
    monkeypatch.setattr(workers_mod, "usable_cores", lambda: 4)
    monkeypatch.setattr(workers_mod, "_pool", None)
    pooled = align_many(q, cands)
    monkeypatch.setattr(workers_mod, "usable_cores", lambda: 2)
    inline = align_many(q, cands)
    for a, b in zip(pooled, inline, strict=True):
        assert a.dtw_cost == b.dtw_cost and a.draq == b.draq
        np.testing.assert_array_equal(a.path, b.path)
