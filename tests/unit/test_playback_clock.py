"""The synced player's Qt-free clock, driven by a fake ``now()``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from avr_gui.core.export import TimeMap
from avr_gui.core.playback import PlaybackClock, Track, frame_at, frame_duration

# Two 20 fps clips (40 and 60 frames); match time = 1.5 x query time.
QT = np.arange(40) / 20.0
MT = np.arange(60) / 20.0
SLOW = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0]))


class FakeTime:
    """A ``now()`` that moves only when told."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def now() -> FakeTime:
    return FakeTime()


@pytest.fixture
def clock(now: FakeTime) -> PlaybackClock:
    c = PlaybackClock(now=now)
    c.query.times, c.match.times, c.time_map = QT, MT, SLOW
    c.fit_span((0.0, 2.0))
    return c


def pair(c: PlaybackClock) -> tuple[int, int | None]:
    s = c.shown()
    return s.query_index, s.match_index


def test_frame_at_is_the_frame_on_screen():
    times = np.array([0.0, 0.1, 0.25, 0.3])
    got = frame_at(times, np.array([-1.0, 0.0, 0.0999999, 0.1 - 1e-7, 0.24, 0.3, 9.0]))
    assert got.tolist() == [0, 0, 1, 1, 1, 3, 3]  # a microsecond early counts as on time
    assert int(frame_at(times, 0.26)) == 2
    assert frame_duration(times, 1) == pytest.approx(0.15)
    assert frame_duration(times, 3) == pytest.approx(0.05)  # the last: as the one before
    assert frame_duration(np.array([5.0]), 0) == pytest.approx(1 / 30)
    track = Track(times)
    assert int(track.index_at(0.2)) == 1 and track.frame_step(0) == pytest.approx(0.1)


def test_span_from_the_map_the_request_or_the_query(now):
    c = PlaybackClock(now=now)
    c.query.times = QT
    c.fit_span()
    assert (c.start, c.end) == (0.0, pytest.approx(2.0))  # the whole query, last frame too
    c.time_map = TimeMap(np.array([0.5, 0.6, 0.7]), np.array([1.0, 1.1, 1.2]))
    c.fit_span()
    assert (c.start, c.end) == (0.5, pytest.approx(0.8))  # plus one map step
    assert c.position == 0.5
    c.fit_span((-3.0, 99.0))
    assert (c.start, c.end) == (0.0, pytest.approx(2.0))  # kept inside the query
    c.fit_span((1.0, 1.0))
    assert c.end == pytest.approx(1.05)  # at least one frame


def test_play_follows_now_at_the_rate(clock, now):
    clock.seek(0.5)
    clock.play()
    now.t += 0.3
    assert clock.advance()
    assert clock.position == pytest.approx(0.8)
    clock.set_rate(2.0)  # from here on twice as fast, no jump
    assert clock.position == pytest.approx(0.8)
    now.t += 0.1
    clock.advance()
    assert clock.position == pytest.approx(1.0)
    clock.pause()
    now.t += 5.0
    assert clock.advance() and clock.position == pytest.approx(1.0)  # paused: still
    clock.play(-1.0)
    now.t += 0.25
    clock.advance()
    assert clock.position == pytest.approx(0.75)
    clock.set_rate(0.5)  # keeps the direction
    assert clock.rate == -0.5


def test_loop_wraps_and_without_loop_stops_at_the_end(clock, now):
    clock.seek(1.9)
    clock.play()
    now.t += 0.3
    assert clock.advance()
    assert clock.position == pytest.approx(0.2)  # 2.2 s wrapped into [0, 2)
    clock.loop = False
    clock.seek(1.9)
    now.t += 0.3
    assert not clock.advance()
    assert clock.position == pytest.approx(2.0) and clock.position < clock.end
    assert pair(clock)[0] == 39
    clock.pause()
    clock.play()  # from the end: starts over
    assert clock.position == 0.0
    clock.seek(0.5)
    clock.play(-1.0)
    now.t += 1.0
    assert not clock.advance() and clock.position == 0.0  # backwards: stops at the start
    clock.play(-1.0)  # from the start backwards: from the end
    assert clock.position == pytest.approx(2.0, abs=2e-3)


def test_seek_shows_the_mapped_frames_and_holds_them_for_a_query_frame(clock):
    clock.seek(1.0)
    assert pair(clock) == (20, 30)
    s = clock.shown()
    assert s.query_time == 1.0 and s.match_time == pytest.approx(1.5)
    clock.seek(1.049)  # still query frame 20: the match stays on its partner
    assert pair(clock) == (20, 30)
    clock.seek(-5.0)
    assert clock.position == 0.0
    clock.seek(50.0)
    assert clock.position == pytest.approx(2.0) and clock.position < clock.end


def test_steps_and_nudges_of_each_side(clock):
    clock.seek(1.0)
    clock.step(1)  # query 1.05 s -> match 1.575 s, half-way: the earlier frame
    assert pair(clock) == (21, 31)
    assert clock.step_side("match", 1) == pytest.approx(1.6 - 1.575)
    assert pair(clock) == (21, 32)
    assert clock.step_side("query", -1) == pytest.approx(-0.05)
    assert pair(clock) == (20, 32)  # the match keeps its partner of the clock's frame
    clock.step(-1)  # both move, the offsets stay
    assert pair(clock) == (19, 30)
    clock.seek(0.0)
    assert pair(clock) == (0, 0)  # the query a frame behind holds its first frame
    assert clock.shown().query_time == pytest.approx(-0.05)
    clock.step(-5)
    assert pair(clock)[0] == 0  # not before the first frame
    with pytest.raises(ValueError, match="side"):
        clock.step_side("left", 1)


def test_show_pair_pins_the_match_until_a_seek(clock, now):
    clock.play()
    clock.show_pair(0.5, 2.5)
    assert not clock.playing
    assert pair(clock) == (10, 50)
    qidx, midx = clock.lookahead(3)
    assert qidx.tolist() == [10, 11, 12, 13] and midx.tolist() == [50]
    clock.seek(0.5)
    assert pair(clock) == (10, 15)
    clock.show_pair(0.5, 2.5)
    clock.play()
    assert pair(clock) == (10, 15)  # playing returns to the time map


def test_lookahead_follows_direction_speed_and_loop(clock, now):
    clock.seek(1.0)
    qidx, midx = clock.lookahead(4)
    assert qidx.tolist() == [20, 21, 22, 23, 24]
    assert midx.tolist() == [30, 31, 33, 34, 36]  # the match's partners
    clock.seek(1.9)
    clock.play(2.0)
    qidx, _ = clock.lookahead(3)
    assert qidx.tolist() == [38, 0, 2, 4]  # two frames a step, wrapping at the end
    clock.play(-1.0)
    clock.seek(0.1)
    qidx, _ = clock.lookahead(3)
    assert qidx.tolist() == [2, 1, 0, 39]


def test_query_alone(now):
    c = PlaybackClock(now=now)
    c.query.times = QT
    c.fit_span()
    c.seek(1.0)
    s = c.shown()
    assert s.query_index == 20 and s.match_index is None and np.isnan(s.match_time)
    assert c.lookahead(2)[1] is None
    assert c.step_side("match", 1) is None


def test_the_clock_needs_no_qt():
    code = (
        "import sys, avr_gui.core.playback; "
        "print(any(m.split('.')[0] in {'PySide6', 'shiboken6', 'pyqtgraph'} "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
