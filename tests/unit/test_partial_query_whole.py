"""Aligning the whole query inside a candidate: exactness, and when the product prefers it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avr_gui.core.align import AlignmentOptions, dtw
from avr_gui.core.align.partial import align_partial, align_partial_many
from avr_gui.core.align.partial_locate import locate_query_whole
from avr_gui.core.align.shown import shown_alignment, shown_alignments


def brute_force_query_whole(C: np.ndarray, min_cover: float) -> float:
    """min over candidate excerpts (j0, j1) of DTW(C[:, j0:j1+1]) / (n + j1 - j0 + 1)."""
    n, m = C.shape
    k = min(m, max(1, math.ceil(min_cover * n - 1e-9)))
    best = np.inf
    for j0 in range(m):
        for j1 in range(j0 + k - 1, m):
            best = min(best, dtw(C[:, j0 : j1 + 1]).cost / (n + j1 - j0 + 1))
    return best


def test_optimal_against_brute_force() -> None:
    rng = np.random.default_rng(11)
    for t in range(200):
        n, m = (int(x) for x in rng.integers(1, 9, size=2))
        C = rng.random((n, m)).astype(np.float32)
        if t % 3 == 0:
            C = np.round(C * 3) / 3  # many ties
        mc = (0.2, 0.5, 0.8, 1.0)[t % 4]
        path, d = locate_query_whole(np.ascontiguousarray(C), mc)
        assert path[0, 0] == 0 and path[-1, 0] == n - 1, "every query row is covered"
        steps = {tuple(s) for s in np.diff(path, axis=0).tolist()}
        assert steps <= {(0, 1), (1, 0), (1, 1)}
        span = path[-1, 1] - path[0, 1] + 1
        assert span >= min(m, math.ceil(mc * n - 1e-9))
        assert d == pytest.approx(float(C[path[:, 0], path[:, 1]].sum()), rel=1e-5)
        ratio = d / (n + span)
        best = brute_force_query_whole(C, mc)
        assert best - 1e-7 <= ratio <= best * 1.01 + 1e-7, (n, m, mc)


def repetitive(times: np.ndarray, period: float = 20.0, drift: float = 0.5) -> np.ndarray:
    """A periodic 8-d signal (a repeated exercise) with a slow drift (the room changes)."""
    t = np.asarray(times, np.float64)[:, None]
    k = np.arange(1, 5)[None, :]
    reps = np.concatenate(
        [np.sin(2 * np.pi * k * t / period), np.cos(2 * np.pi * k * t / period)], 1
    )
    slow = np.stack([np.sin(2 * np.pi * t[:, 0] / 400), np.cos(2 * np.pi * t[:, 0] / 400)], 1)
    return np.concatenate([reps, drift * slow], 1).astype(np.float32)


def test_trimmed_repetitive_query_is_aligned_whole_inside_the_clip() -> None:
    # A 4-rep excerpt (frames 60-139) of a 10-rep clip, its second half noisier (as a
    # restyled copy can be). Alone, partial alignment prefers the cheaper overlap of the
    # clean half with the clip's last reps (as on the real pushup2.mp4); the product
    # aligns the whole query inside the clip: along that path the rest of the query
    # matches about as well as the part does, and the whole clips would need the
    # query at 2.5 times the clip's speed.
    clip = repetitive(np.arange(200))
    rng = np.random.default_rng(0)
    query = repetitive(np.arange(60, 140))
    query[40:] += rng.normal(0, 0.5, (40, 10)).astype(np.float32)
    query[:40] += rng.normal(0, 0.05, (40, 10)).astype(np.float32)
    raw = AlignmentOptions(context=False)
    alone = align_partial(query, clip, raw)
    assert alone.mode == "overlap" and alone.match_span[1] == 199
    whole = align_partial_many(query, [clip], raw, query_whole=True)[0]
    assert whole.query_span == (0, 79)
    assert abs(whole.match_span[0] - 60) <= 3 and abs(whole.match_span[1] - 139) <= 3
    shown = shown_alignment(query, clip, raw)
    assert shown.mode == "query_in_match" and shown.query_span == (0, 79)
    assert abs(shown.match_span[0] - 60) <= 3 and abs(shown.match_span[1] - 139) <= 3


def test_a_query_that_overlaps_only_keeps_its_overlap() -> None:
    # The query's second half is another action (noise): aligning it whole would force
    # unrelated frames together, so the overlap found by partial alignment stays.
    rng = np.random.default_rng(1)
    clip = repetitive(np.arange(150), period=37.0)
    query = np.concatenate(
        [
            repetitive(np.arange(100, 150), period=37.0),
            rng.normal(0, 1, (50, 10)).astype(np.float32),
        ]
    )
    raw = AlignmentOptions(context=False)
    alone = align_partial(query, clip, raw)
    shown = shown_alignment(query, clip, raw)
    assert alone.mode == "overlap"
    assert shown.mode == "overlap" and shown.query_span[1] < 60


def test_a_query_cut_from_the_clip_is_aligned_whole_inside_it() -> None:
    # 120 of a clip's 200 repetitive frames, half of them noisier: the whole clips fit
    # at 1.67 times the speed, so the usual choice aligns them whole. When the query is
    # known to be cut from the clip (the same footage), it is aligned inside it.
    clip = repetitive(np.arange(200))
    rng = np.random.default_rng(0)
    query = repetitive(np.arange(40, 160))
    query[60:] += rng.normal(0, 0.5, (60, 10)).astype(np.float32)
    raw = AlignmentOptions(context=False)
    usual = shown_alignments(query, [clip], raw)[0]
    assert usual.mode == "full"
    cut = shown_alignments(query, [clip], raw, query_inside=True)[0]
    assert cut.mode == "query_in_match" and cut.query_span == (0, 119)
    assert abs(cut.match_span[0] - 40) <= 3 and abs(cut.match_span[1] - 159) <= 3
    # A clip shorter than the query cannot contain it: the usual alignment.
    short = clip[:100]
    a = shown_alignments(query, [short], raw, query_inside=True)[0]
    b = shown_alignments(query, [short], raw)[0]
    assert (a.mode, a.query_span, a.match_span) == (b.mode, b.query_span, b.match_span)
