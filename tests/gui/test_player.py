"""The synced player on real decoded videos whose frames carry their own index."""

from __future__ import annotations

import numpy as np
import pytest
from guiutil import settle, wait_for
from PySide6 import QtCore

from avr_gui.core.demo.synth import read_code
from avr_gui.core.export import frame_map, frame_times
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.player import SyncedPlayer, TimeMap, ViewMode

# Match time = 1.5 x query time: the match plays the same action 1.5 times slower.
SLOW = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0]))


@pytest.fixture
def player(app, qtbot, coded_clips):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(900, 420)  # each side wider than the 160 px clips: frames are not scaled
    p.show()
    p.load(str(coded_clips["query"]), str(coded_clips["match"]), SLOW, span=(0.0, 2.0))
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    yield p
    p.close_sources()


def shown_codes(p: SyncedPlayer) -> tuple[int, int]:
    return read_code(qimage_to_bgr(p.canvas.left)), read_code(qimage_to_bgr(p.canvas.right))


def settle_on(qtbot, p: SyncedPlayer, q: int, m: int) -> None:
    wait_for(qtbot, lambda: p.shown_indices() == (q, m), 10)


def test_seek_shows_the_mapped_frames(player, qtbot):
    player.seek(1.0)  # query frame 20 at 20 fps; match at 1.5 s = frame 30
    settle_on(qtbot, player, 20, 30)
    assert shown_codes(player) == (20, 30)
    assert "frame 20" in player.canvas.captions[0] and "frame 30" in player.canvas.captions[1]
    assert player.scrubber.value() == 1000


def test_steps_both_and_each_side(player, qtbot):
    player.seek(1.0)
    settle_on(qtbot, player, 20, 30)
    player.step(1)  # 1.05 s -> match 1.575 s = frame 31
    settle_on(qtbot, player, 21, 31)
    player.step_side("match", 1)
    settle_on(qtbot, player, 21, 32)
    assert shown_codes(player) == (21, 32)
    assert player.match_nudge.value() == pytest.approx(1000 * (32 / 20 - 1.575), abs=1)
    player.step_side("query", -1)
    settle_on(qtbot, player, 20, 32)
    assert player.query_nudge.value() == pytest.approx(-50, abs=1)
    # Both move, the offsets stay: query 1.0 -> 0.95 s is 1.5 * 0.05 s less of the match
    # (1.525 s + the 25 ms match offset... = frame 30).
    player.step(-1)
    settle_on(qtbot, player, 19, 30)


def test_nudge_box_shifts_one_side(player, qtbot):
    player.seek(0.5)
    settle_on(qtbot, player, 10, 15)
    player.match_nudge.setValue(200)  # +0.2 s = +4 frames at 20 fps
    settle_on(qtbot, player, 10, 19)


def test_show_pair_then_play_returns_to_the_time_map(player, qtbot):
    player.show_pair(0.5, 2.5)
    settle_on(qtbot, player, 10, 50)
    player.seek(0.5)
    settle_on(qtbot, player, 10, 15)


def test_play_follows_the_clock_and_loops(player, qtbot):
    player.seek(0.0)
    player.play()
    assert player.playing
    settle(qtbot, 0.6)
    pos = player.position
    assert 0.3 < pos < 0.9
    q, m = player.shown_indices()
    assert q is not None and m is not None
    assert abs(m - 1.5 * q) <= 3  # the match follows the map while playing
    player.pause()
    assert not player.playing and player.position == pos
    assert player.stats.on_time > 0
    # Loop: from near the end, playing wraps around to the start.
    player.seek(1.9)
    player.play()
    settle(qtbot, 0.4)
    player.pause()
    assert player.position < 1.0


def test_without_loop_playback_stops_at_the_end(player, qtbot):
    player.loop_box.setChecked(False)
    player.seek(1.85)
    player.play()
    wait_for(qtbot, lambda: not player.playing, 3)
    assert player.position == pytest.approx(2.0, abs=0.01)


def test_keys(player, qtbot):
    K = QtCore.Qt.Key
    player.setFocus()
    player.seek(0.5)
    qtbot.keyClick(player, K.Key_Space)
    assert player.playing and player.rate == 1.0
    qtbot.keyClick(player, K.Key_K)
    assert not player.playing
    qtbot.keyClick(player, K.Key_L)
    assert player.playing and player.rate == 1.0
    qtbot.keyClick(player, K.Key_L)
    assert player.rate == 2.0
    qtbot.keyClick(player, K.Key_J)
    assert player.playing and player.rate == -1.0
    qtbot.keyClick(player, K.Key_K)
    player.seek(1.0)
    settle_on(qtbot, player, 20, 30)
    qtbot.keyClick(player, K.Key_Right)
    settle_on(qtbot, player, 21, 31)
    qtbot.keyClick(player, K.Key_Left, QtCore.Qt.KeyboardModifier.ShiftModifier)
    settle_on(qtbot, player, 21, 30)
    qtbot.keyClick(player, K.Key_Right, QtCore.Qt.KeyboardModifier.ControlModifier)
    settle_on(qtbot, player, 22, 30)
    with qtbot.waitSignal(player.in_point_requested) as sig:
        qtbot.keyClick(player, K.Key_I)
    assert sig.args[0] == pytest.approx(1.1, abs=1e-6)
    qtbot.keyClick(player, K.Key_Home)  # the per-side offsets stay: query +1 frame
    settle_on(qtbot, player, 1, 0)


def test_reverse_playback_moves_backwards(player, qtbot):
    player.seek(1.5)
    player.play(-1.0)
    settle(qtbot, 0.4)
    player.pause()
    assert 0.9 < player.position < 1.4


def test_player_shows_the_export_pair_at_the_ends(app, qtbot, coded_clips):
    """First and last query frames: the player shows the match frame the export writes."""
    query, match = str(coded_clips["query"]), str(coded_clips["match"])
    qt, mt = frame_times(query), frame_times(match)
    # A partial alignment on 10 fps samples: query samples 3..17 <-> match samples 4..25,
    # so the first and last query frames lie outside it.
    n = 21
    path = np.array([(3 + round(k * 14 / n), 4 + round(k * 21 / n)) for k in range(n + 1)])
    tmap = TimeMap.from_path(path, qt[::2], mt[::2])
    fmap = frame_map(tmap, qt, mt)
    assert (fmap.match_frame[0], fmap.match_frame[-1]) == (2, 55)  # played on, not held
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(900, 420)
    p.show()
    p.load(query, match, tmap, span=(0.0, 2.0))
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    for i in (0, len(qt) - 1):
        p.seek(float(qt[i]))
        settle_on(qtbot, p, i, int(fmap.match_frame[i]))
        assert shown_codes(p) == (i, fmap.match_frame[i])
    # The player's own span (the map's): its first and last frames agree too.
    p.load(query, match, tmap)
    wait_for(qtbot, lambda: p.ready)
    for t in (p.start, p.end):
        p.seek(t)
        q = int(p.query.index_at(t if t < p.end else p.end - 1e-6))
        settle_on(qtbot, p, q, int(fmap.match_frame[q]))
    p.close_sources()


def _canvas_pixels(p: SyncedPlayer) -> np.ndarray:
    return qimage_to_bgr(p.canvas.grab().toImage())


def test_difference_of_a_video_with_itself_is_black(app, qtbot, coded_clips):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(700, 400)
    p.show()
    same = TimeMap(np.array([0.0, 2.0]), np.array([0.0, 2.0]))
    p.load(str(coded_clips["query"]), str(coded_clips["query"]), same)
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    p.seek(1.0)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 20))
    side = _canvas_pixels(p)
    p.set_mode(ViewMode.DIFFERENCE)
    wait_for(qtbot, lambda: p.shown_indices() == (20, 20))
    diff = _canvas_pixels(p)
    video = diff[: diff.shape[0] - 30]  # the caption line is not video
    assert video.max() < 40  # same frames cancel out (compression noise aside)
    assert side.max() > 150  # while side by side shows the picture
    p.set_mode(ViewMode.BLEND)
    blend = _canvas_pixels(p)
    assert blend[: blend.shape[0] - 30].max() > 150
    p.set_mode(ViewMode.WIPE)
    p.canvas.wipe = 0.3
    wipe = _canvas_pixels(p)
    assert wipe[: wipe.shape[0] - 30].max() > 150
    p.close_sources()


def test_playback_of_the_query_alone(app, qtbot, coded_clips):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(500, 300)
    p.show()
    p.load(str(coded_clips["match"]))
    wait_for(qtbot, lambda: p.ready and p.shown_indices()[0] == 0)
    assert p.shown_indices()[1] is None and p.canvas.right is None
    assert p.end == pytest.approx(3.0, abs=1e-6)  # 60 frames at 20 fps
    p.seek(2.0)
    wait_for(qtbot, lambda: p.shown_indices()[0] == 40)
    assert read_code(qimage_to_bgr(p.canvas.left)) == 40
    p.close_sources()


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("empty.mp4", b"", "empty"),
        ("truncated.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(200), "truncated"),
        ("notes.mp4", "just text ü\n".encode() * 50, "video"),
    ],
)
def test_bad_files_give_a_clear_message(app, qtbot, tmp_path, name, data, words):
    bad = tmp_path / "ünï" / name
    bad.parent.mkdir()
    bad.write_bytes(data)
    p = SyncedPlayer()
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.error, timeout=10000) as sig:
        p.load(str(bad))
    assert words in sig.args[0].lower()
    assert sig.args[0] in p.canvas.message
    assert not p.ready
    p.play()  # nothing to play: must not start the clock
    assert not p.playing
    p.close_sources()
