"""float16 -> float32 conversion of stored features (core/features/half.py)."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.features.compact import from_storage, to_storage
from avr_gui.core.features.half import half_to_single

# Every float16 bit pattern, as a 256 x 256 array.
ALL_HALVES = np.arange(65536, dtype=np.uint16).view(np.float16).reshape(256, 256)


def test_every_finite_half_converts_exactly() -> None:
    finite = np.where(np.isfinite(ALL_HALVES), ALL_HALVES, np.float16(0))
    got = half_to_single(finite)
    assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
    # Bit for bit: signed zeros and subnormals included.
    assert np.array_equal(got.view(np.uint32), finite.astype(np.float32).view(np.uint32))


def test_infinities_and_nan_keep_their_meaning() -> None:
    got = half_to_single(ALL_HALVES)
    ref = ALL_HALVES.astype(np.float32)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    fin = ~np.isnan(ref)
    assert np.array_equal(got[fin], ref[fin])  # +-inf included


@pytest.mark.parametrize("rows", [slice(None, None, 3), slice(1, None, 2), slice(5, 6)])
def test_row_strided_views_convert_like_numpy(rows: slice) -> None:
    # What the coarse pass of re-ranking reads: every stride-th stored frame.
    a = (np.random.default_rng(0).standard_normal((50, 37)) * 3).astype(np.float16)
    view = a[rows]
    got = half_to_single(view)
    assert got.flags["C_CONTIGUOUS"]
    assert np.array_equal(got, view.astype(np.float32))


def test_other_layouts_fall_back_to_numpy() -> None:
    a = (np.random.default_rng(1).standard_normal((20, 8)) * 3).astype(np.float16)
    for view in (a.T, a[:, ::2], a[::-1], np.empty((0, 8), np.float16)):
        got = half_to_single(view)
        assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
        assert np.array_equal(got, view.astype(np.float32))


def test_from_storage_of_a_read_only_map(tmp_path) -> None:
    feats = np.random.default_rng(2).standard_normal((30, 16)).astype(np.float32)
    path = tmp_path / "f.npy"
    np.save(path, to_storage(feats))
    mapped = np.load(path, mmap_mode="r")
    assert not mapped.flags["WRITEABLE"]
    got = from_storage(mapped[::2])
    assert np.array_equal(got, mapped[::2].astype(np.float32))
    assert np.allclose(got, feats[::2], atol=1e-2)
