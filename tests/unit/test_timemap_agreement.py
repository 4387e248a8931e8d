"""The player and the export pick the same match frame for every query frame, ends included.

One :class:`TimeMap` per alignment: the export samples it per query frame
(:func:`frame_map`), the player's Qt-free clock (:class:`PlaybackClock`) shows a match
frame at every instant, the time-map files store the export's rows or, for ``avr align
--json`` output, the map itself. Paths here start and end away from the corners
(partial alignments), hold and rush, and the clips have different frame rates and
variable frame timing.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avr_gui.core.export import TimeMap, WarpCurve, frame_map, load_map, save_map
from avr_gui.core.playback import PlaybackClock


def line(a0: int, b0: int, a1: int, b1: int) -> list[tuple[int, int]]:
    """DTW cells from (a0, b0) to (a1, b1), both included, in (1,1)/(1,0)/(0,1) moves."""
    n = max(a1 - a0, b1 - b0)
    return [(a0 + round(k * (a1 - a0) / n), b0 + round(k * (b1 - b0) / n)) for k in range(n + 1)]


def path_of(*corners: tuple[int, int]) -> np.ndarray:
    """A path through the corners, shape (L, 2)."""
    cells = [corners[0]]
    for (a0, b0), (a1, b1) in itertools.pairwise(corners):
        cells += line(a0, b0, a1, b1)[1:]
    return np.array(cells, dtype=np.int64)


def native_times(n: int, fps: float, jitter: float, seed: int) -> np.ndarray:
    """Timestamps of ``n`` frames at about ``fps``; ``jitter`` > 0: variable frame rate."""
    rng = np.random.default_rng(seed)
    dur = (1.0 + jitter * rng.uniform(-1, 1, n)) / fps
    return np.r_[0.0, np.cumsum(dur[:-1])] + 0.01 * seed  # streams need not start at 0


def sampled(times: np.ndarray, fps: float = 10.0) -> np.ndarray:
    """The frames a sampler at ``fps`` keeps (their real timestamps)."""
    keep = np.unique(np.searchsorted(times, np.arange(times[0], times[-1], 1 / fps)))
    return times[keep[keep < times.size]]


def clock_for(tmap: TimeMap, qt: np.ndarray, mt: np.ndarray, span=None) -> PlaybackClock:
    now = [0.0]
    clock = PlaybackClock(now=lambda: now[0])
    clock.query.times, clock.match.times, clock.time_map = qt, mt, tmap
    dur = qt[-1] - qt[-2] if qt.size > 1 else 1 / 30
    clock.fit_span((qt[0], qt[-1] + dur) if span == "all" else span)
    clock.fake_now = now  # type: ignore[attr-defined]
    return clock


def assert_agree(tmap: TimeMap, qt: np.ndarray, mt: np.ndarray) -> None:
    """At each query frame's timestamp and in the middle of it, the clock shows the
    export's match frame."""
    fmap = frame_map(tmap, qt, mt)
    clock = clock_for(tmap, qt, mt, "all")
    ends = np.r_[qt[1:], qt[-1] + (qt[-1] - qt[-2] if qt.size > 1 else 1 / 30)]
    for i in range(qt.size):
        for t in (qt[i], (qt[i] + ends[i]) / 2):
            clock.seek(t)
            shown = clock.shown()
            assert shown.query_index == i
            assert shown.match_index == fmap.match_frame[i], (i, t)
    # The decoders are asked for the same frames.
    clock.seek(qt[0])
    qidx, midx = clock.lookahead(5)
    assert midx is not None
    np.testing.assert_array_equal(midx, fmap.match_frame[qidx])


CASES = {
    # name: (query fps, n, match fps, m, jitter, path corners on the 10 fps samples)
    "full diagonal, same rate": (30.0, 90, 30.0, 90, 0.0, None),
    "partial inside a longer match": (30.0, 60, 25.0, 150, 0.0, ((0, 12), (19, 33))),
    "query lead-in and tail unmatched": (24.0, 96, 60.0, 300, 0.0, ((6, 0), (20, 30), (33, 35))),
    "holds and rushes, 60 fps query": (60.0, 240, 12.0, 48, 0.0, ((2, 3), (12, 4), (30, 39))),
    "variable frame rate both": (29.97, 120, 25.0, 110, 0.4, ((1, 2), (25, 20), (38, 41))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_player_and_export_agree_on_every_query_frame(name: str) -> None:
    q_fps, n, m_fps, m, jitter, corners = CASES[name]
    qt = native_times(n, q_fps, jitter, 1)
    mt = native_times(m, m_fps, jitter, 2)
    qs, ms = sampled(qt), sampled(mt)
    path = path_of((0, 0), (qs.size - 1, ms.size - 1)) if corners is None else path_of(*corners)
    assert path[-1, 0] < qs.size and path[-1, 1] < ms.size
    tmap = TimeMap.from_path(path, qs, ms)
    assert_agree(tmap, qt, mt)


def test_the_ends_play_on_at_unit_rate() -> None:
    # Sampled query frames 6..20 aligned to match samples 10..24 (10 fps both).
    qt, mt = np.arange(300) / 30.0, np.arange(300) / 30.0
    qs, ms = qt[::3], mt[::3]
    tmap = TimeMap.from_path(path_of((6, 10), (20, 24)), qs, ms)
    fmap = frame_map(tmap, qt, mt)
    # Before the first aligned pair (query 0.6 s <-> match 1.0 s) and after the last
    # (2.0 s <-> 2.4 s) the match runs on in step with the query: 0.4 s ahead.
    for i in (*range(0, 18), *range(61, 90)):
        assert fmap.match_frame[i] == i + 12
    clock = clock_for(tmap, qt, mt, "all")
    for i in (0, 17, 61, 89):
        clock.seek(qt[i])
        assert clock.shown().match_index == i + 12
    # Past the match file's ends the first or last frame holds.
    early = TimeMap(np.array([1.0, 2.0]), np.array([0.2, 1.2]))
    assert frame_map(early, qt, mt).match_frame[:5].tolist() == [0, 0, 0, 0, 0]


def test_default_span_ends_agree() -> None:
    qt = native_times(150, 30.0, 0.0, 3)
    mt = native_times(200, 25.0, 0.0, 4)
    qs, ms = sampled(qt), sampled(mt)
    tmap = TimeMap.from_path(path_of((3, 5), (30, 40), (41, 44)), qs, ms)
    fmap = frame_map(tmap, qt, mt)
    clock = clock_for(tmap, qt, mt)  # the player's own span: the map's, plus a step
    for t in (clock.start, clock.end):
        clock.seek(t)
        shown = clock.shown()
        assert shown.match_index == fmap.match_frame[shown.query_index]
    clock.seek(clock.end)
    assert clock.shown().query_index > int(np.searchsorted(qt, tmap.x[-1]))  # past the map


def test_playing_through_shows_the_export_pairs() -> None:
    qt = native_times(120, 29.97, 0.3, 5)
    mt = native_times(100, 25.0, 0.3, 6)
    qs, ms = sampled(qt), sampled(mt)
    tmap = TimeMap.from_path(path_of((0, 4), (20, 10), (39, 38)), qs, ms)
    fmap = frame_map(tmap, qt, mt)
    clock = clock_for(tmap, qt, mt, "all")
    clock.loop = False
    clock.play(1.0)
    rng = np.random.default_rng(0)
    seen = set()
    while clock.advance(clock.fake_now[0]):  # type: ignore[attr-defined]
        shown = clock.shown()
        assert shown.match_index == fmap.match_frame[shown.query_index]
        seen.add(shown.query_index)
        clock.fake_now[0] += rng.uniform(0.001, 0.02)  # type: ignore[attr-defined]
    assert seen == set(range(qt.size))


def test_time_map_files_keep_the_pairs(tmp_path: Path) -> None:
    qt = native_times(90, 30.0, 0.2, 7)
    mt = native_times(120, 24.0, 0.2, 8)
    qs, ms = sampled(qt), sampled(mt)
    tmap = TimeMap.from_path(path_of((2, 1), (20, 30), (28, 33)), qs, ms)
    fmap = frame_map(tmap, qt, mt)
    for suffix in (".csv", ".json"):
        save_map(tmp_path / f"map{suffix}", fmap)
        stored = load_map(tmp_path / f"map{suffix}")
        np.testing.assert_array_equal(stored.match_frame, fmap.match_frame)
    # `avr align --json` output: the map on sampled frames, read back as a TimeMap.
    rows = [{"query_time": x, "match_time": y} for x, y in zip(tmap.x, tmap.y, strict=True)]
    (tmp_path / "align.json").write_text(json.dumps({"time_map": rows}))
    curve = load_map(tmp_path / "align.json")
    assert isinstance(curve, TimeMap) and WarpCurve is TimeMap
    np.testing.assert_array_equal(frame_map(curve, qt, mt).match_frame, fmap.match_frame)
    assert_agree(curve, qt, mt)


@st.composite
def alignments(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """(path, query samples, match samples, query frame times, match frame times)."""
    q_fps = draw(st.sampled_from([12.0, 24.0, 29.97, 30.0, 60.0]))
    m_fps = draw(st.sampled_from([15.0, 25.0, 30.0, 50.0]))
    jitter = draw(st.sampled_from([0.0, 0.3]))
    seed = draw(st.integers(0, 1000))
    qt = native_times(draw(st.integers(2, 120)), q_fps, jitter, seed)
    mt = native_times(draw(st.integers(2, 120)), m_fps, jitter, seed + 1)
    qs, ms = sampled(qt), sampled(mt)
    i0 = draw(st.integers(0, qs.size - 1))
    j0 = draw(st.integers(0, ms.size - 1))
    moves = draw(st.lists(st.sampled_from([(1, 1), (1, 0), (0, 1)]), max_size=60))
    cells = [(i0, j0)]
    for di, dj in moves:
        i, j = cells[-1][0] + di, cells[-1][1] + dj
        if i < qs.size and j < ms.size:
            cells.append((i, j))
    return np.array(cells), qs, ms, qt, mt


@settings(max_examples=40, deadline=None)
@given(alignments())
def test_agreement_on_random_alignments(case: tuple[np.ndarray, ...]) -> None:
    path, qs, ms, qt, mt = case
    assert_agree(TimeMap.from_path(path, qs, ms), qt, mt)
