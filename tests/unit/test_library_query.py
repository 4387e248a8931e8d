"""The full query: retrieval, re-ranking, exclusion of the query, trims, scorers, arrays."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.errors import DimensionMismatchError, EmptySequenceError, InputError
from avr_gui.core.features import FeatureSequence, encode_video, get_encoder
from avr_gui.core.library import (
    EmptyLibraryError,
    EncoderMismatchError,
    Library,
    NotIndexedError,
)

THUMB = get_encoder("thumb16")


def make_clip(path: Path, action: int, speeds=(1.0,), n: int = 30, seed: int = 1) -> Path:
    style = ClipStyle(seed=seed, figure_bgr=(40 + 30 * seed % 200, 200, 255 - 20 * seed % 200))
    write_video(path, render_frames(action, speed_warp(n, speeds), (64, 48), style), 15.0)
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("query lib ü")
    videos = root / "videos"
    videos.mkdir()
    make_clip(videos / "q.mp4", 0, seed=1)
    make_clip(videos / "same slow.mp4", 0, (0.5, 2.0), n=40, seed=2)
    make_clip(videos / "same fast.mp4", 0, (2.0, 1.0), n=26, seed=3)
    for k in range(4):
        make_clip(videos / f"other{k}.mp4", 1 + k % 2, n=28 + 3 * k, seed=4 + k)
    lib = Library.open(root / "index", encoder=THUMB)
    lib.add_folder(videos)
    assert lib.index().indexed == 7
    yield lib, videos, root
    lib.close()


def test_query_ranks_same_action_first_and_excludes_itself(library) -> None:
    lib, videos, _ = library
    q = videos / "q.mp4"
    res = lib.query(q, top=4, candidates=6)
    names = [Path(m.path).name for m in res.results]
    assert res.query_path == str(q.resolve())
    assert "q.mp4" not in names
    assert set(names[:2]) == {"same slow.mp4", "same fast.mp4"}
    assert [m.rank for m in res.results] == [1, 2, 3, 4]
    m = res.results[0]
    # The default score is the shipped ranking (today the normalised DTW cost); DRAQ
    # is reported beside it.
    assert m.score == pytest.approx(m.normalized_cost) and 0 < m.draq < 1
    assert [r.score for r in res.results] == sorted(r.score for r in res.results)
    assert m.normalized_cost == pytest.approx(m.dtw_cost / sum(m.alignment.shape))
    n, k = m.alignment.shape
    assert n == res.query.features.shape[0] and k == m.features.features.shape[0]
    assert m.alignment.cost is not None and m.alignment.cost.shape == (n, k)
    assert tuple(m.alignment.path[0]) == (0, 0) and tuple(m.alignment.path[-1]) == (n - 1, k - 1)
    assert len(m.features.timestamps) == k  # path indices map to seconds
    scores = [r.score for r in res.results]
    assert scores == sorted(scores)


def test_stored_features_are_used_not_decoded(library) -> None:
    lib, videos, _ = library
    stored = lib.features(videos / "q.mp4")
    assert stored.features.dtype == np.float16 and not stored.features.flags.writeable
    fresh = encode_video(videos / "q.mp4", THUMB)
    np.testing.assert_allclose(stored.features, fresh.features, atol=2e-3)
    np.testing.assert_allclose(stored.timestamps, fresh.timestamps)
    res = lib.query(videos / "q.mp4", top=2)
    np.testing.assert_array_equal(res.query.features, stored.features)


def test_a_copy_outside_the_library_and_a_new_file(library, tmp_path: Path) -> None:
    lib, videos, _ = library
    copy = tmp_path / "outside copy.mp4"
    shutil.copy(videos / "q.mp4", copy)
    res = lib.query(copy, top=7, candidates=10)
    names = [Path(m.path).name for m in res.results]
    assert names[0] == "q.mp4" and res.results[0].draq < 1e-3  # its twin, by content
    new = make_clip(tmp_path / "new.mp4", 0, (1.5, 0.75), n=33, seed=11)
    res = lib.query(new, top=3)
    assert {Path(m.path).name for m in res.results[:2]} <= {
        "q.mp4",
        "same slow.mp4",
        "same fast.mp4",
    }


def test_trim_and_bad_trims(library) -> None:
    lib, videos, _ = library
    res = lib.query(videos / "q.mp4", trim=(0.5, 1.5), top=2)
    t = res.query.timestamps
    assert t.min() >= 0.5 and t.max() <= 1.5 and 8 <= len(t) <= 11
    with pytest.raises(InputError):
        lib.query(videos / "q.mp4", trim=(1.0, 0.5))
    with pytest.raises(EmptySequenceError):
        lib.query(videos / "q.mp4", trim=(50.0, 60.0))


def test_scorer_is_pluggable(library) -> None:
    lib, videos, _ = library
    by_sim = lib.query(videos / "q.mp4", top=6, scorer=lambda s, d, c: -s)
    sims = [m.similarity for m in by_sim.results]
    assert sims == sorted(sims, reverse=True)
    by_cost = lib.query(videos / "q.mp4", top=6, scorer=lambda s, d, c: 3.0 * c)
    scores = [m.score for m in by_cost.results]
    assert scores == sorted(scores)
    whole = [m for m in by_cost.results if m.mode == "full"]
    assert whole and [m.score for m in whole] == pytest.approx(
        [3 * m.normalized_cost for m in whole]
    )
    with pytest.raises(InputError, match="scorer"):
        lib.query(videos / "q.mp4", scorer=lambda s, d, c: np.zeros(2))


def test_bad_queries(library, tmp_path: Path) -> None:
    lib, _, _ = library
    with pytest.raises(NotIndexedError):
        lib.features(tmp_path / "nothing.mp4")
    with pytest.raises(DimensionMismatchError):
        lib.query(FeatureSequence(np.ones((5, 7), np.float32), np.arange(5.0), np.arange(5), "x"))
    with pytest.raises(InputError):
        lib.query(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("no video")
    with pytest.raises(InputError):
        lib.query(tmp_path / "text.mp4")


def _arrays(n: int, d: int, seed: int, version: str = "v1") -> list[tuple[str, FeatureSequence]]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        t = int(rng.integers(20, 40))
        f = np.cumsum(rng.standard_normal((t, d)), axis=0).astype(np.float32)
        out.append(
            (f"arr/{k}", FeatureSequence(f, np.arange(t) / 30, np.arange(t), "", "pose", version))
        )
    return out


def test_an_empty_library_refuses_a_query_before_encoding_it(tmp_path: Path) -> None:
    encoded: list[int] = []

    class Spy(type(THUMB)):  # type: ignore[misc]
        def encode(self, frames):
            encoded.append(len(frames))
            return super().encode(frames)

    clip = make_clip(tmp_path / "elsewhere.mp4", 0)
    (tmp_path / "videos").mkdir()
    with Library.open(tmp_path / "index", encoder=Spy()) as lib:
        lib.add_folder(tmp_path / "videos")
        lib.index()
        with pytest.raises(EmptyLibraryError, match="no indexed videos yet"):
            lib.query(clip)
    assert encoded == []  # the answer came before a frame was decoded or encoded


@pytest.mark.parametrize("trim", [(2.0, 1.0), (1.0, 1.0), (float("nan"), 1.0), ("a", "b")])
def test_a_bad_trim_is_refused_before_the_query_is_encoded(
    library, tmp_path, monkeypatch, trim
) -> None:
    lib, _, _ = library
    clip = make_clip(tmp_path / "elsewhere.mp4", 0, seed=9)  # not a copy of a library clip
    calls: list[int] = []
    encode = THUMB.encode  # the library's encoder
    monkeypatch.setattr(THUMB, "encode", lambda frames: calls.append(len(frames)) or encode(frames))
    with pytest.raises(InputError, match="trim must be"):
        lib.query(clip, trim=trim)
    assert calls == []
    lib.query(clip, trim=(0.0, 1.5), top=2)  # a good trim still works, and encodes
    assert calls


def test_feature_arrays_go_through_the_same_library(tmp_path: Path) -> None:
    items = _arrays(12, 26, 0)
    with Library.open(tmp_path / "arrays") as lib:
        with pytest.raises(EmptyLibraryError):
            lib.query(items[0][1])
        assert lib.add_features(items) == 12
        assert lib.status().indexed == 12 and lib.encoder_name == "pose"
        res = lib.query(items[3][1], top=3, candidates=12)
        assert res.results[0].path == "arr/3" and res.results[0].draq < 1e-3
        res = lib.query("arr/3", top=3, candidates=12)  # by name: excluded from its results
        assert "arr/3" not in [m.path for m in res.results]
        with pytest.raises(EncoderMismatchError):
            lib.add_features(_arrays(1, 26, 1, version="v2"))
        assert lib.index().indexed == 12  # no folders: arrays stay


def test_retrieval_is_bank_normalised(tmp_path: Path) -> None:
    from avr_gui.core.align.banknorm import bank_log_mass, normalize
    from avr_gui.core.library.descriptor import clip_descriptor

    items = _arrays(12, 26, 5)
    with Library.open(tmp_path / "bank") as lib:
        lib.add_features(items)
        idx = lib.search_index()
        assert idx.log_mass is not None and idx.log_mass.shape == (12,)
        vec = idx.standardizer.transform(np.stack([clip_descriptor(f.features) for _, f in items]))
        order = [idx.paths.index(p) for p, _ in items]
        want_mass = bank_log_mass(vec, vec, exclude_self=True)
        np.testing.assert_allclose(idx.log_mass[order], want_mass, rtol=1e-4)
        q = items[0][1]
        hits = lib.search(q, 5, exclude="arr/0")
        qv = idx.standardizer.transform(clip_descriptor(q.features))[0]
        score = normalize(vec @ qv, want_mass)
        score[0] = -np.inf  # the query itself is excluded
        expected = [items[i][0] for i in np.argsort(-score, kind="stable")[:5]]
        assert [p for p, _ in hits] == expected
        # The reported similarity stays the plain cosine, for display.
        assert hits[0][1] == pytest.approx(float(vec[int(hits[0][0][4:])] @ qv), abs=1e-5)


def test_coarse_pass_keeps_the_full_rate_answer() -> None:
    from avr_gui.core.library.query import COARSE_MARGIN, rerank

    items = _arrays(24, 16, 9)
    rng = np.random.default_rng(3)
    base = items[0][1]
    # Near-copies of the query (noisier and noisier) among unrelated walks.
    cands = [
        (
            f"near{k}",
            0.5,
            replace(
                base,
                features=base.features
                + rng.normal(0, 0.3 * (k + 1), base.features.shape).astype(np.float32),
            ),
        )
        for k in range(4)
    ] + [(p, 0.5, s) for p, s in items[1:]]
    fine = rerank(base, cands, top=4, coarse=False)
    coarse = rerank(base, cands, top=4)
    assert len(cands) > 4 + COARSE_MARGIN  # the coarse pass ran
    assert [m.path for m in coarse] == [m.path for m in fine] == [f"near{k}" for k in range(4)]
    for a, b in zip(coarse, fine, strict=True):
        # Every reported number comes from the full-rate alignment.
        assert a.score == b.score and a.draq == b.draq
        np.testing.assert_array_equal(a.alignment.path, b.alignment.path)


def test_align_columns_ranks_by_all_and_aligns_by_some() -> None:
    from avr_gui.core.align.shown import shown_alignment
    from avr_gui.core.library.query import rerank

    rng = np.random.default_rng(4)
    base = _arrays(1, 8, 2)[0][1]
    n = len(base.features)
    # Columns 0-7 say who matches (a near copy); columns 8-15 carry a second signal.
    extra = np.cumsum(rng.standard_normal((n, 8)), axis=0).astype(np.float32)
    q = replace(base, features=np.hstack([base.features, extra]))
    cands = []
    for k in range(6):
        near = base.features + rng.normal(0, 0.2 + k, base.features.shape).astype(np.float32)
        other = np.cumsum(rng.standard_normal((n, 8)), axis=0).astype(np.float32)
        cands.append((f"c{k}", 0.5, replace(base, features=np.hstack([near, other]))))
    plain = rerank(q, cands, top=3, coarse=False)
    split = rerank(q, cands, top=3, coarse=False, align_columns=slice(8, None))
    # Same ranking (scores from all columns) ...
    assert [m.path for m in split] == [m.path for m in plain]
    assert [m.score for m in split] == [m.score for m in plain]
    # ... but each shown alignment is the one of the chosen columns, rows re-normalised.
    for m in split:
        f = dict((p, s) for p, _, s in cands)[m.path].features[:, 8:]
        want = shown_alignment(
            q.features[:, 8:] / np.linalg.norm(q.features[:, 8:], axis=1, keepdims=True),
            f / np.linalg.norm(f, axis=1, keepdims=True),
        ).alignment
        np.testing.assert_array_equal(m.alignment.path, want.path)
        assert m.draq == pytest.approx(want.draq, rel=1e-6)


def test_ranking_by_similarity_aligns_only_what_is_shown(monkeypatch) -> None:
    from avr_gui.core.library import query as query_module
    from avr_gui.core.library.query import rerank, similarity_score

    base = _arrays(1, 8, 2)[0][1]
    rng = np.random.default_rng(9)
    cands = [
        (
            f"c{k}",
            0.1 * k,
            replace(
                base,
                features=base.features + rng.normal(0, 0.3, base.features.shape).astype(np.float32),
            ),
        )
        for k in range(6)
    ]

    def no_batch_alignment(*args, **kwargs):
        raise AssertionError("the score ignores DTW: no candidate should be batch-aligned")

    monkeypatch.setattr(query_module, "align_many", no_batch_alignment)
    got = rerank(base, cands, top=2, scorer=similarity_score)
    assert [m.path for m in got] == ["c5", "c4"]
    assert [m.score for m in got] == pytest.approx([-0.5, -0.4])
    for m in got:
        assert sorted(set(m.alignment.path[:, 0].tolist())) == list(range(len(base.features)))


def test_the_shipped_score_ranks_the_same_without_computing_unused_cues() -> None:
    """Issue 16: DRAQ and path tau weigh 0 in the shipped score, so ranking skips them;
    the ranking and every reported number stay what computing all cues gives."""
    from avr_gui.core.align import align_many
    from avr_gui.core.align.ranking import default_ranking
    from avr_gui.core.library.query import COARSE_MARGIN, rerank

    ranking = default_ranking()
    assert not ranking.uses("draq") and not ranking.uses("neg_tau")  # else nothing to test
    items = _arrays(30, 16, 11)
    base = items[0][1]
    rng = np.random.default_rng(5)
    cands = [
        (p, float(rng.uniform(0.2, 0.8)), replace(s, features=s.features + 0.0))
        for p, s in items[1:]
    ]
    assert len(cands) > 5 + COARSE_MARGIN  # the coarse pass runs

    def all_cues(sim: np.ndarray, dq: np.ndarray, nc: np.ndarray) -> np.ndarray:
        # The shipped score's one cue, through a scorer of one's own (which gets DRAQ).
        assert np.isfinite(dq).all()
        return ranking.score(sim, dq, nc, np.zeros_like(sim))

    shipped = rerank(base, cands, top=5)
    everything = rerank(base, cands, top=5, scorer=all_cues)
    assert [m.path for m in shipped] == [m.path for m in everything]
    for a, b in zip(shipped, everything, strict=True):
        assert (a.score, a.draq, a.dtw_cost) == (b.score, b.draq, b.dtw_cost)
        assert np.isfinite(a.draq)  # DRAQ is always shown
        np.testing.assert_array_equal(a.alignment.path, b.alignment.path)
    # Batch alignment without DRAQ: same paths and costs, DRAQ left out.
    feats = [s.features for _, _, s in cands[:4]]
    with_draq = align_many(base.features, feats)
    without = align_many(base.features, feats, draq=False)
    for a, b in zip(with_draq, without, strict=True):
        assert a.dtw_cost == b.dtw_cost and np.isnan(b.draq) and np.isfinite(a.draq)
        np.testing.assert_array_equal(a.path, b.path)


def test_shown_alignments_in_one_batch_equal_one_call_each() -> None:
    """The shown matches are aligned as a batch; each result is what a call alone gives
    (trimmed queries, warped copies and unrelated clips: every mode and both branches)."""
    from avr_gui.core.align.shown import shown_alignment, shown_alignments

    rng = np.random.default_rng(12)
    walk = np.cumsum(rng.standard_normal((120, 16)), axis=0).astype(np.float32)
    query = walk[30:80]
    cands = [
        walk,  # the query is a part of it
        walk[20:100:2],  # a faster copy of the neighbourhood
        walk[40:70],  # a part of the query
        walk[55:120],  # overlaps the query's end
        np.cumsum(rng.standard_normal((70, 16)), axis=0).astype(np.float32),  # unrelated
        walk[30:80] + rng.normal(0, 0.5, (50, 16)).astype(np.float32),  # a noisy copy
    ]
    batch = shown_alignments(query, cands)
    modes = set()
    for c, b in zip(cands, batch, strict=True):
        one = shown_alignment(query, c)
        modes.add(b.mode)
        assert (b.mode, b.query_span, b.match_span) == (one.mode, one.query_span, one.match_span)
        assert b.alignment.draq == pytest.approx(one.alignment.draq, rel=1e-6)
        assert b.normalized_cost == pytest.approx(one.normalized_cost, rel=1e-6)
        np.testing.assert_array_equal(b.alignment.path, one.alignment.path)
    assert len(modes) >= 3  # the cases really differ
