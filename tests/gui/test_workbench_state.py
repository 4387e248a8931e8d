"""What the window shows as state changes: indexing, thumbnails, a new query, another match."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BAD, LIBRARY
from guiutil import wait_for
from PySide6 import QtCore, QtGui

from avr_gui.core.workspace import Workspace
from avr_gui.gui.panels.library_panel import THUMB_ROLE, THUMB_SIZE, LibraryPanel

pytest.importorskip("avr_gui.core.library")
N_VIDEOS = len(LIBRARY) + len(BAD)


def _query(win, qtbot, path: Path) -> None:
    win.set_query(str(path))
    wait_for(qtbot, lambda: win.query_panel.duration > 0, 10)
    win.query_panel.run_button.click()
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 60)
    wait_for(qtbot, lambda: win.match is not None and win.player.ready, 20)


def test_the_library_panel_follows_indexing_while_it_runs(window, qtbot, library_folder):
    panel = window.library_panel
    seen = []

    def record(event: str) -> None:
        job = window.index_job
        if event == Workspace.SNAPSHOT and job is not None and not job.done:
            seen.append((panel.summary.text(), panel.model.rowCount()))

    window.ws.subscribe(record)
    window.add_folder(str(library_folder))
    wait_for(qtbot, lambda: window.index_job is not None and window.index_job.done, 60)
    # While the run went on, the panel already listed every video and counted them
    # (before: "0 videos: 0 indexed" and an empty list until the run ended).
    assert seen, "the panel was not updated while indexing"
    summary, rows = seen[0]
    assert rows == N_VIDEOS and summary.startswith(f"{N_VIDEOS} videos: 0 indexed"), summary
    assert f"{N_VIDEOS} pending" in summary
    wait_for(
        qtbot, lambda: "4 indexed" in panel.summary.text() and "2 failed" in panel.summary.text()
    )
    assert panel.model.rowCount() == N_VIDEOS


def _entries():
    from avr_gui.core.library.library import LibraryStatus, VideoEntry

    names = ["a wide.mp4", "b tall.mp4", "c wide.mp4", "d tall.mp4"]
    entries = [
        VideoEntry(f"/v/{n}", "indexed", None, 2.0, 15.0, 160, 120, 30, None, None) for n in names
    ]
    return entries, LibraryStatus(4, 4, 0, 0, [])


def _shown_panel(qtbot) -> tuple[LibraryPanel, list, object]:
    """A library panel showing the four test videos; with its entries and status."""
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 600)
    panel.show()
    entries, status = _entries()
    panel.show_state(["/v"], entries, status, "thumb16")
    return panel, entries, status


def test_rows_keep_their_place_while_thumbnails_arrive(app, qtbot):
    panel, entries, status = _shown_panel(qtbot)
    view = panel.videos
    rects = [view.visualRect(panel.proxy.index(r, 0)) for r in range(4)]
    assert rects[0].height() >= THUMB_SIZE.height()
    # Thumbnails of other shapes (a portrait clip is taller than wide) arrive one by one.
    wide = QtGui.QImage(64, 36, QtGui.QImage.Format.Format_RGB32)
    wide.fill(QtGui.QColor(200, 40, 40))
    tall = QtGui.QImage(36, 64, QtGui.QImage.Format.Format_RGB32)
    tall.fill(QtGui.QColor(40, 200, 40))
    panel.set_thumbnails({"/v/b tall.mp4": tall})
    assert [view.visualRect(panel.proxy.index(r, 0)) for r in range(4)] == rects
    panel.set_thumbnails({"/v/a wide.mp4": wide, "/v/d tall.mp4": tall})
    assert [view.visualRect(panel.proxy.index(r, 0)) for r in range(4)] == rects
    shown = [panel.model.item(r, 0).data(QtCore.Qt.ItemDataRole.DecorationRole) for r in range(4)]
    assert all(p.size() == THUMB_SIZE for p in shown)
    assert [bool(panel.model.item(r, 0).data(THUMB_ROLE)) for r in range(4)] == [
        True,
        True,
        False,
        True,
    ]
    # A live update of the same videos keeps the rows, the selection and their place.
    view.setCurrentIndex(panel.proxy.index(2, 0))
    panel.show_state(["/v"], entries, status, "thumb16")
    assert panel.selected_video() == "/v/c wide.mp4"
    assert [view.visualRect(panel.proxy.index(r, 0)) for r in range(4)] == rects


def test_a_double_click_uses_the_row_under_the_pointer(app, qtbot):
    panel, _, _ = _shown_panel(qtbot)
    view = panel.videos
    chosen = []
    panel.use_as_query.connect(chosen.append)
    centre = view.visualRect(panel.proxy.index(2, 0)).center()
    # The first click makes the row current; then the current row changes under the
    # pointer (as a live update could do), and the second click lands on row 2 again.
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=centre)
    view.setCurrentIndex(panel.proxy.index(0, 0))
    qtbot.mouseDClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=centre)
    assert chosen == ["/v/c wide.mp4"]


def test_double_click_in_the_window_queries_that_clip(indexed, qtbot, library_folder):
    win = indexed
    panel = win.library_panel
    view = panel.videos
    wait_for(qtbot, lambda: not panel.missing_thumbnails(win.entries), 20)
    row = next(
        r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 0).data() == "bounce.mp4"
    )
    centre = view.visualRect(panel.proxy.index(row, 0)).center()
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=centre)
    assert win.query_path == str(library_folder / "bounce.mp4")


def test_a_new_query_clears_the_matches_and_another_trim_marks_them(indexed, qtbot, library_folder):
    win = indexed
    _query(win, qtbot, library_folder / "query take.mp4")
    cands = win.candidates
    assert cands.model.rowCount() == 3 and not cands.stale
    assert cands.stale_label.isHidden()
    # Another In/Out: the matches stay, under a banner saying they are for the old one.
    win.query_panel.set_out(1.0)
    assert win.ws.stale and cands.stale and cands.stale_label.isVisible()
    assert "find matches again" in cands.stale_label.text()
    # Back to the whole clip: they apply again.
    win.query_panel.reset_trim()
    assert not win.ws.stale and not cands.stale
    # Another query (picked in the library): matches, matrix and match video go.
    panel = win.library_panel
    row = next(
        r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 0).data() == "bounce.mp4"
    )
    panel.videos.setCurrentIndex(panel.proxy.index(row, 0))
    panel.query_button.click()
    assert win.query_path == str(library_folder / "bounce.mp4")
    assert cands.model.rowCount() == 0 and win.match is None and not cands.stale
    assert win.alignment.cost is None
    assert win.player.match.source is None
    # Its own matches come, and nothing is stale.
    win.query_panel.run_button.click()
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 60)
    assert cands.model.rowCount() > 0 and not cands.stale


def test_another_match_keeps_the_query_time(indexed, qtbot, library_folder):
    win = indexed
    _query(win, qtbot, library_folder / "query take.mp4")
    player = win.player
    wait_for(qtbot, lambda: None not in player.shown_indices(), 20)
    t = player.start + 0.55 * (player.end - player.start)
    player.seek(t)
    assert player.position == pytest.approx(t)
    first = win.match
    win.candidates.select_view_row(1)
    wait_for(qtbot, lambda: win.match is not first)
    wait_for(qtbot, lambda: player.ready and player.match.source.path == str(win.match.path), 20)
    wait_for(qtbot, lambda: player.position != player.start, 5)
    # The query stays where it was (clamped only to the new pair's span).
    assert player.position == pytest.approx(min(max(t, player.start), player.end))
    assert player.position > player.start
    wait_for(qtbot, lambda: player.shown_indices()[0] == int(player.query.index_at(t)), 10)
