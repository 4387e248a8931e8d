"""Exact clip search answered by one BLAS product instead of faiss's scan (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.library.ann import EXACT_BLAS_QUERIES, ClipIndex


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("k", [1, 7, 50, 300])
def test_blas_search_returns_what_faiss_returns(k: int) -> None:
    rng = np.random.default_rng(3)
    v = _unit(rng.standard_normal((300, 24)))
    index = ClipIndex.build(v, "exact")
    q = _unit(v[:4] + 0.2 * rng.standard_normal((4, 24)))
    for row in q:
        D, I = index.search(row, k)  # noqa: E741
        D_ref, I_ref = index.index.search(row[None], k)
        assert I.shape == (1, min(k, 300))
        np.testing.assert_array_equal(I[0], I_ref[0])
        np.testing.assert_allclose(D[0], D_ref[0], atol=1e-6)
        assert np.all(np.diff(D[0]) <= 0)


def test_ties_come_in_ascending_row_order() -> None:
    base = _unit(np.random.default_rng(0).standard_normal((1, 8)))
    other = _unit(np.random.default_rng(1).standard_normal((5, 8)))
    v = np.concatenate([other[:2], base, other[2:], base, base])  # rows 2, 6, 7 equal
    D, I = ClipIndex.build(v, "exact").search(base, 3)  # noqa: E741
    assert I[0].tolist() == [2, 6, 7]
    np.testing.assert_allclose(D[0], 1.0, atol=1e-6)


def test_large_batches_still_go_to_faiss_with_the_same_answer() -> None:
    rng = np.random.default_rng(5)
    v = _unit(rng.standard_normal((200, 16)))
    index = ClipIndex.build(v, "exact")
    q = _unit(rng.standard_normal((EXACT_BLAS_QUERIES + 3, 16)))
    D, I = index.search(q, 10)  # noqa: E741
    one = [index.search(r, 10)[1][0] for r in q]
    np.testing.assert_array_equal(I, np.stack(one))
    assert D.shape == (len(q), 10)
