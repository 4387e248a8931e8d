"""The grid of matches in sync, on real widgets and real decoded videos.

The clips carry their own frame number (``synth.draw_code``), so every check reads the
frame actually on screen in each tile.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from guiutil import settle, wait_for
from PySide6 import QtCore

from avr_gui.core.demo.synth import read_code
from avr_gui.core.export import frame_map, frame_times
from avr_gui.core.video import FrameReader, probe
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.grid import GridWindow, TileSpec
from avr_gui.gui.player import TimeMap

# Three re-timings of the 60-frame match against the 40-frame query (both 20 fps).
MAPS = {
    "slow": TimeMap(np.array([0.0, 2.0]), np.array([0.0, 3.0])),
    "late": TimeMap(np.array([0.0, 2.0]), np.array([0.8, 2.8])),
    "bent": TimeMap(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.4, 2.9])),
    "fast": TimeMap(np.array([0.0, 2.0]), np.array([0.0, 1.2])),
}


def make_grid(qtbot, coded_clips, names) -> GridWindow:
    q, m = str(coded_clips["query"]), str(coded_clips["match"])
    g = GridWindow(TileSpec("query", q), [TileSpec(n, m, MAPS[n]) for n in names])
    qtbot.addWidget(g)
    g.resize(1300, 900)  # every tile wider than the 160 px clips: frames are not scaled
    g.show()
    wait_for(qtbot, lambda: g.ready and None not in g.shown_frames())
    return g


@pytest.fixture
def grid(app, qtbot, coded_clips):
    g = make_grid(qtbot, coded_clips, ["slow", "late", "bent"])
    yield g
    g.close()


def expected(coded_clips, names, query_frame: int, nudges=None) -> list[int]:
    """The export's rule, computed here from the files: each map's frame_map row."""
    qt, mt = frame_times(coded_clips["query"]), frame_times(coded_clips["match"])
    out = [query_frame]
    for k, n in enumerate(names):
        f = int(frame_map(MAPS[n], qt, mt).match_frame[query_frame])
        out.append(int(np.clip(f + (nudges[k + 1] if nudges else 0), 0, len(mt) - 1)))
    return out


def codes(g: GridWindow) -> list[int | None]:
    return [
        None if t.canvas.image is None else read_code(qimage_to_bgr(t.canvas.image))
        for t in g.tiles
    ]


def settle_on(qtbot, g: GridWindow, frames: list) -> None:
    wait_for(qtbot, lambda: g.shown_frames() == frames, 10)
    assert codes(g) == frames  # the pictures on screen, not only the bookkeeping


def test_opens_with_each_tile_on_its_mapped_frame(grid, qtbot, coded_clips):
    names = ["slow", "late", "bent"]
    assert len(grid.tiles) == 4
    # 2x2: the query top left, the best match beside it.
    pos = [grid.tiles[k].mapToGlobal(QtCore.QPoint(0, 0)) for k in range(4)]
    assert pos[0].y() == pos[1].y() < pos[2].y() == pos[3].y()
    assert pos[0].x() == pos[2].x() < pos[1].x() == pos[3].x()
    settle_on(qtbot, grid, expected(coded_clips, names, 0))
    grid.seek(1.0)
    settle_on(qtbot, grid, expected(coded_clips, names, 20))
    assert "00:00:01:00" in grid.time_label.text() and "frame 20" in grid.time_label.text()
    assert "#30" in grid.tiles[1].canvas.caption  # slow: 1.5 s of the match


def test_steps_and_play_move_every_tile(grid, qtbot, coded_clips):
    names = ["slow", "late", "bent"]
    grid.seek(0.5)
    settle_on(qtbot, grid, expected(coded_clips, names, 10))
    grid.step(3)
    settle_on(qtbot, grid, expected(coded_clips, names, 13))
    grid.setFocus()
    qtbot.keyClick(grid, QtCore.Qt.Key.Key_Left)
    settle_on(qtbot, grid, expected(coded_clips, names, 12))
    qtbot.keyClick(grid, QtCore.Qt.Key.Key_L)  # play forward, as in editors
    assert grid.playing
    settle(qtbot, 0.6)
    qtbot.keyClick(grid, QtCore.Qt.Key.Key_K)
    assert not grid.playing
    qi = grid.clock.query_frame()
    assert qi > 12 or qi < 10  # it moved (and may have looped)
    settle_on(qtbot, grid, expected(coded_clips, names, qi))
    assert grid.stats.on_time + grid.stats.late > 0


def test_nudge_shifts_one_tile_only(grid, qtbot, coded_clips):
    names = ["slow", "late", "bent"]
    grid.seek(1.0)
    before = expected(coded_clips, names, 20)
    settle_on(qtbot, grid, before)
    grid.nudge(2, 3)
    after = expected(coded_clips, names, 20, [0, 0, 3, 0])
    assert after[2] == before[2] + 3
    settle_on(qtbot, grid, after)
    assert grid.tiles[2].nudge_label.text() == "+3 f"
    # The tile's own button nudges it too; the nudge stays while every tile steps.
    qtbot.mouseClick(grid.tiles[3].back, QtCore.Qt.MouseButton.LeftButton)
    grid.step(1)
    settle_on(qtbot, grid, expected(coded_clips, names, 21, [0, 0, 3, -1]))


def test_hide_one_tile(grid, qtbot, coded_clips):
    names = ["slow", "late", "bent"]
    grid.seek(1.0)
    settle_on(qtbot, grid, expected(coded_clips, names, 20))
    qtbot.mouseClick(grid.tiles[1].hide_button, QtCore.Qt.MouseButton.LeftButton)
    assert grid.tiles[1].hidden and grid.tiles[1].hide_button.text() == "Show"
    settle(qtbot, 0.3)  # a frame being decoded when it was hidden lands
    decoded = grid.tiles[1].source.decoded
    grid.step(12)  # beyond what was decoded ahead
    want = expected(coded_clips, names, 32)
    wait_for(qtbot, lambda: grid.shown_frames() == [want[0], None, want[2], want[3]])
    assert grid.tiles[1].canvas.image is None
    settle(qtbot, 0.3)
    assert grid.tiles[1].source.decoded == decoded  # a hidden tile decodes nothing
    grid.set_hidden(1, False)
    settle_on(qtbot, grid, want)


@pytest.mark.parametrize("names", [["slow", "late"], ["slow", "late", "bent", "fast"]])
def test_three_and_five_tiles(app, qtbot, coded_clips, names):
    g = make_grid(qtbot, coded_clips, names)
    try:
        assert len(g.tiles) == len(names) + 1
        g.seek(1.5)
        settle_on(qtbot, g, expected(coded_clips, names, 30))
    finally:
        g.close()


def test_grid_export_writes_what_the_grid_shows(grid, qtbot, coded_clips, tmp_path):
    names = ["slow", "late", "bent"]
    grid.nudge(3, 2)
    grid.set_hidden(2, True)  # left out of the export
    grid.export_folder = str(tmp_path / "exports")
    dialog = grid.open_export_dialog()
    assert dialog is not None and dialog.kind == "grid"
    assert Path(dialog.out).parent == tmp_path / "exports"
    out = tmp_path / "grid ü.mp4"
    dialog.path_edit.setText(str(out))
    dialog.burn_in_box.setChecked(True)
    dialog.export_button.click()
    wait_for(qtbot, lambda: dialog.written is not None, 60)
    assert "Wrote" in dialog.status.text()
    info = probe(out, count_frames=True)
    # Three tiles (query, slow, bent) of 160x120 in 2x2; the query's 40 frames.
    assert (info.width, info.height, info.frame_count) == (320, 240, 40)
    want = [expected(coded_clips, names, i, [0, 0, 0, 2]) for i in range(40)]
    # The same grid without burn-in: the names and timecodes are the only difference.
    plain = tmp_path / "plain.mp4"
    h = grid.export(str(plain), burn_in=False)
    wait_for(qtbot, lambda: h.done, 60)
    with FrameReader(out) as r, FrameReader(plain) as rp:
        for i in (0, 17, 39):
            f = r.read(i)
            got = [read_code(f[:120, :160]), read_code(f[:120, 160:]), read_code(f[120:, :160])]
            assert got == [want[i][0], want[i][1], want[i][3]]
            diff = np.abs(f.astype(int) - rp.read(i).astype(int)).mean(axis=2)
            for y, x in ((0, 0), (0, 160), (120, 0)):  # each shown tile's label corner
                assert diff[y : y + 12, x : x + 60].mean() > 15
                assert diff[y + 30 : y + 120, x : x + 160].mean() < 2  # the rest: codec noise


def test_grid_export_cancel_leaves_nothing(grid, qtbot, tmp_path):
    dialog = grid.open_export_dialog()
    out = tmp_path / "cancelled.mp4"
    dialog.path_edit.setText(str(out))
    h = dialog.start()
    dialog.cancel()
    wait_for(qtbot, lambda: h.done, 30)
    assert "Cancelled" in dialog.status.text() and dialog.written is None
    assert list(tmp_path.iterdir()) == []


def test_main_window_opens_the_grid_of_its_matches(indexed, qtbot, library_folder, tmp_path):
    win = indexed
    assert not win.grid_action.isEnabled()
    query = library_folder / "query take.mp4"
    win.set_query(str(query))
    win.run_query(str(query), None)
    wait_for(qtbot, lambda: win.match is not None, 60)
    assert win.grid_action.isEnabled() and win.grid_action.shortcut().toString() == "Ctrl+G"
    win.grid_action.trigger()
    grid = win.grid_window
    assert grid is not None and grid.isVisible()
    matches = win.ws.matches[:3]
    assert [t.path for t in grid.tiles] == [str(query), *(str(m.path) for m in matches)]
    wait_for(qtbot, lambda: grid.ready and None not in grid.shown_frames(), 30)
    grid.seek(0.5)
    wait_for(qtbot, lambda: grid.shown_frames() == grid.expected_frames(), 10)
    # The selected match's tile follows the same time map as the two-video player.
    win.player.seek(0.5)
    wait_for(qtbot, lambda: None not in win.player.shown_indices())
    k = 1 + [m is win.match for m in matches].index(True)
    assert grid.shown_frames()[k] == win.player.shown_indices()[1]
    # The grid is offered a folder outside the library; so is the pair export.
    assert not Path(grid.default_export_path()).parent.is_relative_to(library_folder)
    dialog = win.export("side-by-side", "")
    assert dialog is not None
    folder = Path(dialog.out).parent
    assert not folder.is_relative_to(library_folder) and folder.name == "AVR exports"
    assert [dialog.arrangement_box.itemData(i) for i in range(3)] == [
        "auto", "left-right", "top-bottom",
    ]  # fmt: skip
    dialog.reject()
    win.close()
    assert not grid.isVisible()  # closes with the main window


def test_export_dialog_offers_the_query_folder_outside_the_library(indexed, qtbot, coded_clips):
    win = indexed
    # A query from outside the library: its own folder.
    win.set_query(str(coded_clips["query"]))
    win.run_query(str(coded_clips["query"]), None)
    wait_for(qtbot, lambda: win.match is not None, 60)
    dialog = win.export("retimed", "")
    assert Path(dialog.out).parent == Path(coded_clips["query"]).parent
    assert not dialog.arrangement_box.isVisibleTo(dialog)  # layout is for side by side
    dialog.reject()
