"""Search past the compressed-index threshold (issue 20 item 2), at a forced small size.

- The IVF-PQ index with exact re-scoring of its shortlist finds >= 98 % of the exact
  top 10, and survives a save and load (its vectors memory-mapped).
- A library past the (lowered) threshold answers queries like exact search does.
- A rebuild runs in the background while the previous build answers; a build that
  dies while saving leaves the previous one in use.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.features import FeatureSequence
from avr_gui.core.library import Library, ann
from avr_gui.core.library import search as search_mod
from avr_gui.core.library.ann import ClipIndex, recall_vs_exact
from avr_gui.core.scale import saved
from avr_gui.core.scale.compressed import CompressedIndex

ENC, VER = "synthetic", "synthetic-v1"


@pytest.fixture(autouse=True)
def _one_faiss_thread():
    """One OpenMP thread: on a shared 2-core runner two spin-waiting threads made the
    small builds here 5x slower (5.7 s against 1.2 s measured)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def _clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 100 centres (clip descriptors of a library cluster so)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((100, dim)).astype(np.float32)
    v = centres[rng.integers(100, size=n)] + 0.5 * rng.standard_normal((n, dim), np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_compressed_index_recall_and_round_trip(tmp_path: Path) -> None:
    v = _clustered(5000, 64)
    index = ClipIndex.build(v, compressed_limit=1000)
    assert index.kind == "ivfpq" and index.compressed is not None
    queries = v[:200] + 0.05 * np.random.default_rng(1).standard_normal((200, 64), np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    assert recall_vs_exact(index, v, queries, 10) >= 0.98
    sims, ids = index.search(queries[:5], 10)
    np.testing.assert_allclose(sims, np.take_along_axis(queries[:5] @ v.T, ids, 1), atol=1e-5)
    index.save(tmp_path / "c.faiss")
    back = ClipIndex.load(tmp_path / "c.faiss")
    assert back.kind == "ivfpq" and back.compressed is not None
    assert isinstance(back.compressed.vectors, np.memmap)  # exact vectors stay on disk
    np.testing.assert_array_equal(back.search(queries[:5], 10)[1], ids)
    # Below the limit nothing changes: HNSW, then exact.
    assert ClipIndex.build(v[:1500], compressed_limit=2000).kind == "exact"


def _library(root: Path, n_clips: int, n_arrays: int = 60, seed: int = 0) -> list[np.ndarray]:
    """``n_arrays`` stored clips and ``n_clips`` catalog rows sharing them (jittered
    descriptors, as ``benchmarks/bench_scale.py`` builds its libraries)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for _ in range(n_arrays):
        walk = np.cumsum(rng.standard_normal((int(rng.integers(16, 41)), 16)), axis=0)
        arrays.append((walk + 3 * rng.standard_normal(16)).astype(np.float32))
    with Library.open(root) as lib:
        lib.add_features((f"pool/{k:04d}", _seq(a)) for k, a in enumerate(arrays))
        _add_rows(lib, n_clips - n_arrays, rng)
    return arrays


def _add_rows(lib: Library, n: int, rng: np.random.Generator, prefix: str = "clip") -> None:
    cat = lib._catalog
    base = cat.rows("path LIKE 'pool/%'")
    rows = []
    for k in range(n):
        src = base[k % len(base)]
        desc = np.frombuffer(src.descriptor or b"", np.float32)
        jitter = desc + rng.standard_normal(desc.shape).astype(np.float32) * 0.4
        rows.append(replace(src, path=f"{prefix}/{k:05d}", descriptor=jitter.tobytes()))
    with cat.transaction() as tx:
        cat.put(rows, tx)
        cat.bump_generation(tx)


def _seq(f: np.ndarray, name: str = "") -> FeatureSequence:
    t = np.arange(len(f)) / 10.0
    return FeatureSequence(f, t, np.arange(len(f)), name, ENC, VER)


def _query(arrays: list[np.ndarray], k: int) -> FeatureSequence:
    rng = np.random.default_rng(100 + k)
    src = arrays[k]
    idx = np.linspace(0, len(src) - 1, 30).round().astype(int)
    return _seq(src[idx] + 0.3 * rng.standard_normal((30, src.shape[1])).astype(np.float32))


def test_library_past_the_threshold_answers_like_exact_search(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "lib"
    arrays = _library(root, 3000)
    monkeypatch.setattr(ann, "COMPRESSED_LIMIT", 1000)
    with Library.open(root) as lib:
        idx = lib.search_index()
        assert idx.index.kind == "ivfpq" and isinstance(idx.paths, saved.PathList)
        assert (root / "clips.scale" / "current.json").is_file()
        exact = search_mod.SearchIndex.build(lib._catalog, root, "exact", save=False)
        assert list(idx.paths) == list(exact.paths)
        np.testing.assert_allclose(idx.log_mass, exact.log_mass, rtol=1e-4, atol=1e-4)
        got = [lib.query(_query(arrays, k), top=10, candidates=30) for k in range(3)]
        lib._search = exact  # the same queries through exact search
        want = [lib.query(_query(arrays, k), top=10, candidates=30) for k in range(3)]
    for g, w in zip(got, want, strict=True):
        assert [m.path for m in g.results] == [m.path for m in w.results]
    # Reopened (another process would): the saved build is used, not rebuilt.
    with Library.open(root, readonly=True) as lib:
        again = lib.search_index()
        assert again.index.kind == "ivfpq" and again.generation == idx.generation


def test_background_rebuild_serves_the_previous_build(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "lib"
    _library(root, 2000)
    monkeypatch.setattr(ann, "COMPRESSED_LIMIT", 1000)
    with Library.open(root) as lib:
        first = lib.search_index()  # the first build: waited for
        gate, started = threading.Event(), threading.Event()
        real_publish = saved.publish

        def slow_publish(*args, **kwargs):
            started.set()
            assert gate.wait(30)
            return real_publish(*args, **kwargs)

        monkeypatch.setattr(saved, "publish", slow_publish)
        _add_rows(lib, 300, np.random.default_rng(5), prefix="new")
        t0 = time.perf_counter()
        during = lib.search_index()
        assert started.wait(30)
        res = lib.query(_seq(np.ones((20, 16), np.float32)), top=5, candidates=10)
        assert time.perf_counter() - t0 < 10  # answered while the build waits
        assert during.generation == first.generation < lib._catalog.generation
        assert len(res.results) == 5 and not any(m.path.startswith("new/") for m in res.results)
        gate.set()
        assert search_mod.wait_for_build(root, 60)
        after = lib.search_index()
        assert after.generation == lib._catalog.generation and len(after.paths) == 2300
        assert "new/00007" in after.paths


def test_a_build_killed_while_saving_leaves_the_previous_one(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "lib"
    _library(root, 1500)
    monkeypatch.setattr(ann, "COMPRESSED_LIMIT", 1000)
    with Library.open(root) as lib:
        first = lib.search_index()
        scale_dir = root / saved.SCALE_DIR
        published = (scale_dir / "current.json").read_text()

        def dies_mid_write(index: object, path: str) -> None:
            Path(path).write_bytes(b"half an index")
            raise OSError("killed")

        import faiss

        monkeypatch.setattr(faiss, "write_index", dies_mid_write)
        _add_rows(lib, 100, np.random.default_rng(6), prefix="new")
        assert lib.search_index().generation == first.generation  # previous build serves
        assert search_mod.wait_for_build(root, 60)
        assert (scale_dir / "current.json").read_text() == published
        # A later call logs the failure and keeps answering from the previous build.
        served = lib.search_index()
        assert served.generation == first.generation
        assert len(lib.search(_seq(np.ones((20, 16), np.float32)), 5)) == 5
        # What a killed process (no cleanup at all) leaves is ignored and removed.
        leftover = scale_dir / ".build-g99-1-dead"
        leftover.mkdir()
        (leftover / "index.faiss").write_bytes(b"junk")
        monkeypatch.undo()
        monkeypatch.setattr(ann, "COMPRESSED_LIMIT", 1000)
        assert search_mod.load_current(root).generation == first.generation
        _add_rows(lib, 10, np.random.default_rng(7), prefix="more")
        lib.search_index()
        assert search_mod.wait_for_build(root, 60)
        assert lib.search_index().generation == lib._catalog.generation
        assert not leftover.exists()
        assert len([p for p in scale_dir.iterdir() if p.is_dir()]) == 1


@pytest.mark.parametrize("dim", [64, 34])
def test_pq_shape_divides_the_dimension(dim: int) -> None:
    v = _clustered(3000, dim, seed=3)
    ci = CompressedIndex.build(v)
    assert ci.size == 3000 and ci.dim == dim
    assert recall_vs_exact(ClipIndex(ci.index, "ivfpq", ci), v, v[:50], 10) >= 0.98


def test_read_only_library_builds_for_its_session_only(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "lib"
    _library(root, 1200)
    monkeypatch.setattr(ann, "COMPRESSED_LIMIT", 1000)
    with Library.open(root) as lib:
        lib.search_index()
        _add_rows(lib, 50, np.random.default_rng(8), prefix="new")
    scale_dir = root / saved.SCALE_DIR
    before = sorted(p.name for p in scale_dir.iterdir())
    pointer = (scale_dir / "current.json").read_text()
    with Library.open(root, readonly=True) as lib:
        idx = lib.search_index()  # the saved build is stale: a private one, waited for
        assert idx.generation == lib._catalog.generation and "new/00001" in idx.paths
    assert sorted(p.name for p in scale_dir.iterdir()) == before
    assert (scale_dir / "current.json").read_text() == pointer
