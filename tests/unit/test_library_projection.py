"""A library's compact copies of wide appearance features (``library/projection.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.jobs import CancelToken
from avr_gui.core.library import Library
from avr_gui.core.library.projection import (
    FILE_NAME,
    MIN_FRAMES,
    WIDTH,
    fit_projection,
    load_projection,
    update_projection,
)

D = 640  # wide enough to be projected (>= MIN_WIDTH), small enough to be quick


def _clip(rng: np.random.Generator, n: int, d: int = D, rank: int = 40) -> np.ndarray:
    """Positive frames of low rank plus a little noise, like pooled CNN features."""
    mix = rng.standard_normal((rank, d)).astype(np.float32)
    walk = np.cumsum(rng.standard_normal((n, rank)), axis=0).astype(np.float32) / 5
    return np.abs(walk @ mix + 0.05 * rng.standard_normal((n, d)).astype(np.float32)) + 1.0


def _seq(f: np.ndarray, name: str, encoder: str = "effnet-lite0") -> FeatureSequence:
    n = len(f)
    return FeatureSequence(
        f, np.arange(n) / 10.0, np.arange(n, dtype=np.int64), name, encoder, f"{encoder}-test"
    )


def _library(root: Path, clips: list[np.ndarray]) -> Library:
    lib = Library.open(root)
    lib.add_features((f"clip{k}", _seq(c, f"clip{k}")) for k, c in enumerate(clips))
    return lib


@pytest.fixture
def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [_clip(rng, int(n)) for n in rng.integers(150, 260, size=8)]  # ~1,600 frames


def test_fit_is_orthonormal_deterministic_and_keeps_the_leading_columns() -> None:
    rng = np.random.default_rng(1)
    arrays = [_clip(rng, 300, d=40 + 600) for _ in range(3)]
    a, b = fit_projection(arrays, 40), fit_projection(list(arrays), 40)
    assert a.basis.shape == (600, WIDTH) and a.start == 40 and a.width == 640
    np.testing.assert_allclose(a.basis.T @ a.basis, np.eye(WIDTH), atol=1e-5)
    assert a.ident == b.ident and np.array_equal(a.basis, b.basis)
    out = a.apply(arrays[0])
    assert out.shape == (300, 40 + WIDTH) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, :40], arrays[0][:, :40])
    # Frames of rank 40 lie in the fitted span: inner products survive the projection.
    g_full = arrays[0][:, 40:] @ arrays[1][:, 40:].T
    g_proj = out[:, 40:] @ a.apply(arrays[1])[:, 40:].T
    assert np.abs(g_proj - g_full).max() < 1e-3 * np.abs(g_full).max()


def test_index_writes_a_basis_and_a_copy_per_clip(tmp_path: Path, clips) -> None:
    with _library(tmp_path / "idx", clips) as lib:
        proj = load_projection(tmp_path / "idx" / "features" / FILE_NAME)
        assert proj is not None and proj.frames == sum(len(c) for c in clips)
        copies = list((tmp_path / "idx" / "features").rglob(f"*.{proj.ident}.p16.npy"))
        assert len(copies) == len(clips)
        rows = [r for r in lib._catalog.rows() if r.feature_key]
        q = lib._read(rows[0])
        compact = lib._compact(q, {r.path: r.feature_key for r in rows})
        assert compact is not None
        assert compact[0].shape == (len(q.features), WIDTH)
        assert {a.shape[1] for a in compact[1].values()} == {WIDTH}


def test_queries_keep_their_ranking_on_the_compact_copies(tmp_path: Path, clips) -> None:
    rng = np.random.default_rng(5)
    with _library(tmp_path / "idx", clips) as lib:
        for k in (0, 3, 6):
            f = clips[k][30:130] + 0.05 * rng.standard_normal((100, D)).astype(np.float32)
            ways = {}
            for use in (True, False):
                lib.use_compact = use
                ways[use] = lib.query(_seq(f, f"q{k}"), top=3, candidates=8).results
            assert ways[True][0].path == ways[False][0].path == f"clip{k}"
            # The full features go with the matches either way (the player, export).
            assert ways[True][0].features.features.shape[1] == D
            for a, b in zip(ways[True], ways[False], strict=True):
                assert abs(a.match_span_s[0] - b.match_span_s[0]) <= 0.5
            # Compared in the compact space: the costs differ, if only a little.
            assert ways[True][0].normalized_cost != ways[False][0].normalized_cost


def test_small_or_narrow_libraries_get_no_basis(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    few = [_clip(rng, 100) for _ in range(3)]  # fewer frames than MIN_FRAMES
    assert sum(len(c) for c in few) < MIN_FRAMES
    with _library(tmp_path / "few", few):
        assert not (tmp_path / "few" / "features" / FILE_NAME).exists()
    narrow = [_clip(rng, 400, d=256) for _ in range(4)]
    with _library(tmp_path / "narrow", narrow):
        assert not (tmp_path / "narrow" / "features" / FILE_NAME).exists()


def test_growth_refits_and_drops_the_old_copies(tmp_path: Path, clips) -> None:
    rng = np.random.default_rng(3)
    root = tmp_path / "idx"
    with _library(root, clips) as lib:
        first = load_projection(root / "features" / FILE_NAME)
        assert first is not None
        more = [_clip(rng, 250) for _ in range(8)]  # twice the frames: refit
        lib.add_features((f"more{k}", _seq(c, f"more{k}")) for k, c in enumerate(more))
        second = load_projection(root / "features" / FILE_NAME)
        assert second is not None and second.ident != first.ident
        assert not list((root / "features").rglob(f"*.{first.ident}.p16.npy"))
        assert len(list((root / "features").rglob(f"*.{second.ident}.p16.npy"))) == 16


def test_damaged_basis_or_copy_falls_back_to_full_features(tmp_path: Path, clips) -> None:
    root = tmp_path / "idx"
    with _library(root, clips) as lib:
        proj = load_projection(root / "features" / FILE_NAME)
        assert proj is not None
        rows = [r for r in lib._catalog.rows() if r.feature_key]
        keys = {r.path: r.feature_key for r in rows}
        q = lib._read(rows[0])
        copy = next((root / "features").rglob(f"{rows[2].feature_key}.*.p16.npy"))
        copy.write_bytes(copy.read_bytes()[:100])  # truncated
        assert lib._compact(q, keys) is None
        assert lib.query(_seq(clips[2][:80], "q"), top=2, candidates=8).results[0].path == "clip2"
        # The next writer's step notices the damaged copy and writes it again.
        update_projection(lib._catalog, lib._store)
        assert lib._compact(q, keys) is not None
        (root / "features" / FILE_NAME).write_bytes(b"not an npz")
        assert load_projection(root / "features" / FILE_NAME) is None
        assert lib._compact(q, keys) is None
        assert lib.query(_seq(clips[2][:80], "q"), top=2, candidates=8).results[0].path == "clip2"


def test_a_cancelled_step_leaves_a_consistent_library(tmp_path: Path, clips) -> None:
    root = tmp_path / "idx"
    with _library(root, clips[:1]) as lib:  # too few frames for a basis yet
        lib.add_features((f"c{k}", _seq(c, f"c{k}")) for k, c in enumerate(clips[1:]))
        (root / "features" / FILE_NAME).unlink()
        lib._store.drop_projected(None)
        token = CancelToken()
        token.cancel()
        assert update_projection(lib._catalog, lib._store, cancel=token) is None
        assert not (root / "features" / FILE_NAME).exists()  # no basis without its copies
        assert update_projection(lib._catalog, lib._store) is not None


def test_read_only_queries_write_nothing(tmp_path: Path, clips) -> None:
    root = tmp_path / "idx"
    with _library(root, clips):
        pass
    (root / "features" / FILE_NAME).unlink()
    before = sorted(p.name for p in (root / "features").rglob("*"))
    with Library.open(root, readonly=True) as lib:
        assert lib.query(_seq(clips[1][:90], "q"), top=2, candidates=8).results[0].path == "clip1"
    assert sorted(p.name for p in (root / "features").rglob("*")) == before


def test_a_damaged_stored_array_never_breaks_indexing(tmp_path: Path, clips) -> None:
    root = tmp_path / "idx"
    with _library(root, clips[:1]) as lib:  # no basis yet
        # Bytes of a stored array overwritten with NaN on disk (what verify's header
        # check cannot see); the next writer's step must not fail because of it.
        key = next(r.feature_key for r in lib._catalog.rows() if r.feature_key)
        lib.add_features((f"c{k}", _seq(c, f"c{k}")) for k, c in enumerate(clips[1:]))
        path = next((root / "features").rglob(f"{key}.f16.npy"))
        data = bytearray(path.read_bytes())
        data[-64:] = np.full(32, np.nan, np.float16).tobytes()
        path.write_bytes(bytes(data))
        (root / "features" / FILE_NAME).unlink()
        assert update_projection(lib._catalog, lib._store) is None
        assert not (root / "features" / FILE_NAME).exists()


def test_index_runs_remove_copies_of_any_other_basis(tmp_path: Path, clips) -> None:
    root = tmp_path / "idx"
    with _library(root, clips) as lib:
        proj = load_projection(root / "features" / FILE_NAME)
        assert proj is not None
        current = sorted((root / "features").rglob(f"*.{proj.ident}.p16.npy"))
        # A copy of a basis a crash left behind (written, then the refit never finished).
        stale = current[0].with_name(current[0].name.replace(proj.ident, "0123456789abcdef"))
        stale.write_bytes(current[0].read_bytes())
        lib.index()  # no folders: scan, verify and the writer's steps only
        assert not stale.exists()
        assert sorted((root / "features").rglob(f"*.{proj.ident}.p16.npy")) == current
