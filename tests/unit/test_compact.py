"""Clip vectors, library standardisation, PCA projection and float16 storage."""

from __future__ import annotations

import numpy as np
import pytest

from avr_gui.core.align import AlignmentOptions, align
from avr_gui.core.errors import InputError, UnsupportedFileError
from avr_gui.core.features.compact import (
    ClipStandardizer,
    Projection,
    clip_vector,
    from_storage,
    to_storage,
)


def _low_rank(rng: np.random.Generator, n: int, d: int, rank: int) -> np.ndarray:
    basis = rng.standard_normal((rank, d))
    return (rng.standard_normal((n, rank)) @ basis + 0.01 * rng.standard_normal((n, d))).astype(
        np.float32
    )


def test_clip_vector_is_the_mean():
    f = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(clip_vector(f), [4.5, 5.5, 6.5])
    with pytest.raises(InputError):
        clip_vector(np.zeros((0, 3)))


def test_standardizer_centres_scales_and_normalises():
    rng = np.random.default_rng(0)
    v = rng.normal(5.0, [1.0, 10.0, 0.1, 0.0], size=(50, 4)).astype(np.float32)
    st = ClipStandardizer.fit(v)
    z = st.transform(v)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    # The constant dimension contributes nothing; no division by zero.
    assert np.all(z[:, 3] == 0) and np.isfinite(z).all()
    with pytest.raises(InputError, match="at least two"):
        ClipStandardizer.fit(v[:1])
    with pytest.raises(InputError, match="dimensions"):
        st.transform(v[:, :3])


def test_projection_keeps_the_variance_of_low_rank_features(tmp_path):
    rng = np.random.default_rng(1)
    x = _low_rank(rng, 400, 64, 8)
    proj = Projection.fit(x, dim=8)
    assert proj.dim == 8 and proj.explained > 0.999
    y = proj.apply(x)
    assert y.shape == (400, 8) and y.dtype == np.float32
    # Distances are preserved when the projection keeps (nearly) all variance.
    d_full = np.linalg.norm(x[:50, None] - x[None, :50], axis=2)
    d_proj = np.linalg.norm(y[:50, None] - y[None, :50], axis=2)
    np.testing.assert_allclose(d_proj, d_full, rtol=0.02, atol=0.05)
    path = tmp_path / "proj ✓.npz"
    proj.save(path)
    back = Projection.load(path)
    np.testing.assert_array_equal(back.components, proj.components)
    assert back.explained == pytest.approx(proj.explained)
    with pytest.raises(InputError, match="re-fit"):
        proj.apply(x[:, :10])
    assert Projection.fit(x[:5], dim=100).dim == 5  # never more than the data allows
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    with pytest.raises(UnsupportedFileError):
        Projection.load(bad)


def test_float16_storage_round_trip_keeps_the_alignment():
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.standard_normal((120, 32)), axis=0).astype(np.float32)
    idx = np.clip(np.cumsum(np.r_[np.full(40, 0.6), np.full(40, 1.7)]).astype(int), 0, 119)
    warped = walk[idx]
    stored = to_storage(walk)
    assert stored.dtype == np.float16 and stored.nbytes == walk.nbytes // 2
    back = from_storage(stored)
    assert back.dtype == np.float32 and back.flags.c_contiguous
    a = align(warped, walk, AlignmentOptions())
    b = align(from_storage(to_storage(warped)), back, AlignmentOptions())
    np.testing.assert_array_equal(a.path, b.path)
    assert b.draq == pytest.approx(a.draq, rel=1e-3)
    with pytest.raises(InputError, match="float16 range"):
        to_storage(np.full((2, 2), 1e6, np.float32))
