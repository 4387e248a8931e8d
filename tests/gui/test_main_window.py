"""The whole app on a generated library: index, query, select, inspect, play, export."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from guiutil import settle, wait_for
from PySide6 import QtCore

from avr_gui import __version__
from avr_gui.core.video import probe
from avr_gui.gui.about import about_text
from avr_gui.gui.main_window import MainWindow
from avr_gui.gui.panels.candidates import (
    BADGE_KIND_ROLE,
    BADGE_ROLE,
    COMPARED_COLUMN,
    DRAQ_COLUMN,
    VERDICT_COLUMN,
)
from avr_gui.gui.panels.library_panel import THUMB_ROLE
from avr_gui.gui.player import ViewMode

pytest.importorskip("avr_gui.core.library")


def _query(win, qtbot, path: Path, trim=None):
    win.set_query(str(path))
    wait_for(qtbot, lambda: win.query_panel.duration > 0, 10)
    if trim is not None:
        win.query_panel.set_in(trim[0])
        win.query_panel.set_out(trim[1])
    win.query_panel.run_button.click()
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 60)


def test_index_shows_videos_failures_and_filter(indexed, qtbot, library_folder):
    win = indexed
    panel = win.library_panel
    assert panel.folders.count() == 1
    assert panel.folders.item(0).toolTip() == str(library_folder)
    names = panel.visible_names()
    assert len(names) == 6
    assert "warped take ü.mp4" in names
    assert "empty.mp4 (failed)" in names and "truncated.mp4 (failed)" in names
    assert "4 indexed" in panel.summary.text() and "2 failed" in panel.summary.text()
    assert panel.failures.isVisible() and panel.failures.count() == 2
    failures = " ".join(panel.failures.item(k).text() for k in range(2))
    assert "empty.mp4:" in failures and "truncated" in failures
    assert str(library_folder) not in failures  # the name is enough, no repeated path
    assert panel.overall.value() == panel.overall.maximum() == 6
    # The status bar says what this run did: 4 clips encoded, 2 failures, none unchanged.
    status = win.statusBar().currentMessage()
    assert "4 encoded, 0 unchanged, 2 failed (4 of 6 videos searchable)" in status, status
    panel.filter.setText("TAKE")
    assert sorted(panel.visible_names()) == ["query take.mp4", "warped take ü.mp4"]
    panel.filter.setText("")
    # Thumbnails of the indexed videos arrive from a worker; failed files get none.
    wait_for(qtbot, lambda: not panel.missing_thumbnails(win.entries), 20)
    # Every row has a picture of one size (failed files keep the placeholder).
    items = [panel.model.item(r, 0) for r in range(panel.model.rowCount())]
    icons = [it.data(QtCore.Qt.ItemDataRole.DecorationRole) for it in items]
    assert all(icon is not None for icon in icons)
    assert sum(bool(it.data(THUMB_ROLE)) for it in items) == 4


def test_query_select_click_play(indexed, qtbot, library_folder):
    win = indexed
    _query(win, qtbot, library_folder / "query take.mp4")
    cands = win.candidates
    n = cands.model.rowCount()
    assert n == 3  # the query itself is never a result
    top = cands.row_of_view(0)
    assert top.path.endswith("warped take ü.mp4")  # the same action, re-timed
    assert top.draq <= 0.5
    # thumb16 has no calibrated verdict: the badge shows DRAQ alone, in neutral.
    assert top.probability is None and top.verdict == "-"
    idx = cands.proxy.index(0, VERDICT_COLUMN)
    assert idx.data(BADGE_ROLE) == f"DRAQ {top.draq:.2f}" and idx.data(BADGE_KIND_ROLE) == "draq"
    assert idx.data(QtCore.Qt.ItemDataRole.DecorationRole) is not None  # the badge
    assert cands.proxy.index(0, DRAQ_COLUMN).data() == f"{top.draq:.3f}"
    assert cands.table.isColumnHidden(COMPARED_COLUMN)  # one way of comparing only
    assert not win.query_panel.matched_by.isVisible()
    others = [cands.row_of_view(r) for r in range(1, n)]
    assert all(r.draq > 0.5 for r in others)
    # The best match is selected automatically and loaded everywhere.
    wait_for(qtbot, lambda: win.match is not None, 10)
    assert win.match.path == top.path
    assert win.alignment.image.image.shape == top.match.alignment.cost.shape
    # Sorting by DRAQ, descending, puts the worst first.
    cands.table.sortByColumn(DRAQ_COLUMN, QtCore.Qt.SortOrder.DescendingOrder)
    draqs = [cands.row_of_view(r).draq for r in range(n)]
    assert draqs == sorted(draqs, reverse=True)
    # Select another row: the alignment view and the player follow.
    cands.select_view_row(0)  # the worst after sorting
    worst = cands.row_of_view(0)
    wait_for(qtbot, lambda: win.match is worst.match)
    assert win.alignment.image.image.shape == worst.match.alignment.cost.shape
    assert win.player.match.source.path == worst.path
    wait_for(qtbot, lambda: win.player.ready and None not in win.player.shown_indices(), 20)
    # Thumbnail strips arrive from a worker.
    wait_for(qtbot, lambda: all(r.strip is not None for r in cands.model.rows), 20)
    # Back to the best match; click a cost-matrix cell: both players go there.
    cands.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
    cands.select_view_row(0)
    wait_for(qtbot, lambda: win.match is top.match and win.player.ready, 20)
    view = win.alignment
    i, j = 10, 20
    pos = view.plot.mapFromScene(view.scene_pos_of(i, j))
    qtbot.mouseClick(view.plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    q_t = float(win.result.query.timestamps[i])
    m_t = float(top.match.features.timestamps[j])
    q_idx = int(win.player.query.index_at(q_t))
    m_idx = int(win.player.match.index_at(m_t))
    wait_for(qtbot, lambda: win.player.shown_indices() == (q_idx, m_idx), 10)
    assert f"frame {m_idx}" in win.player.canvas.captions[1]
    # The matrix names the same video frames as the players (their frame times).
    assert f"frame {q_idx}" in view.hover_label.text().splitlines()[0]
    assert f"frame {m_idx}" in view.hover_label.text().splitlines()[1]
    # Step, then play for a moment.
    win.player.step(1)
    wait_for(qtbot, lambda: win.player.shown_indices()[0] == q_idx + 1, 10)
    before = win.player.position
    win.player.play()
    settle(qtbot, 0.5)
    win.player.pause()
    assert win.player.position > before + 0.2 or win.player.position < before  # moved / looped
    assert win.player.stats.on_time > 0
    # The cursor on the matrix follows the players.
    xs, _ = view.cursor.getData()
    assert len(xs) == 1


def test_trimmed_query_and_a_bad_query(indexed, qtbot, library_folder):
    win = indexed
    _query(win, qtbot, library_folder / "query take.mp4", trim=(0.5, 2.0))
    ts = win.result.query.timestamps
    assert ts[0] >= 0.5 - 1e-9 and ts[-1] <= 2.0 + 1e-9
    wait_for(qtbot, lambda: win.match is not None and win.player.match.source is not None, 20)
    wait_for(qtbot, lambda: win.player.ready, 20)
    assert win.player.start == pytest.approx(ts[0])  # the player plays the trimmed part
    win.set_query(str(library_folder / "empty.mp4"))
    wait_for(qtbot, lambda: "Cannot use this file" in win.query_panel.message.text(), 10)
    assert "empty" in win.query_panel.message.text().lower()
    win.query_panel.run_button.click()
    wait_for(qtbot, lambda: "Query failed" in win.query_panel.message.text(), 30)
    assert win.query_panel.run_button.isEnabled()


def test_export_time_map_and_video(indexed, qtbot, library_folder, tmp_path):
    win = indexed
    act = win.export_actions["map"]
    assert not act.isEnabled()  # nothing selected yet
    _query(win, qtbot, library_folder / "query take.mp4")
    wait_for(qtbot, lambda: win.match is not None)
    assert act.isEnabled()
    out = tmp_path / "exports ü" / "map.json"
    out.parent.mkdir()
    h = win.export("map", "", str(out))
    wait_for(qtbot, lambda: h.done, 30)
    rows = json.loads(out.read_text())
    assert rows  # the export core's JSON
    video = tmp_path / "exports ü" / "retimed.mp4"
    h = win.export("retimed", "", str(video))
    wait_for(qtbot, lambda: h.done, 60)
    assert win.last_error is None
    assert probe(video).frame_count == probe(library_folder / "query take.mp4").frame_count
    bad = tmp_path / "no such folder" / "x.mp4"
    h = win.export("retimed", "", str(bad))
    wait_for(qtbot, lambda: h.done, 30)
    assert win.last_error is not None and "Exporting" in win.last_error
    assert not bad.exists()


def test_closing_during_indexing_cancels_and_waits(app, qtbot, tmp_path, settings, library_folder):
    win = MainWindow(index_dir=str(tmp_path / "idx"), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.library is not None)
    win.add_folder(str(library_folder))
    wait_for(qtbot, lambda: win.index_job is not None)
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 30  # closing cancels indexing: no wait for it to end
    assert win.runner.wait(0)  # no thread left running
    assert win.library is None
    assert not win.player.query.source


def test_window_state_and_view_settings_persist(app, qtbot, tmp_path, settings):
    win = MainWindow(index_dir=str(tmp_path / "i"), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    win.show()
    win.resize(1300, 801)
    win.player.set_mode(ViewMode.WIPE)
    win.player.loop_box.setChecked(False)
    win.candidates_dock.hide()
    wait_for(qtbot, lambda: win.library is not None)
    win.close()
    again = MainWindow(index_dir=str(tmp_path / "i"), backend="thumb16", settings=settings)
    qtbot.addWidget(again)
    again.show()
    # (The offscreen screen is 800x600, so Qt clamps the restored size; check the store.)
    assert not settings.value("window/geometry").isEmpty()
    assert not settings.value("window/state").isEmpty()
    assert again.player.canvas.mode == ViewMode.WIPE
    assert not again.player.loop_box.isChecked()
    assert not again.candidates_dock.isVisible()
    wait_for(qtbot, lambda: again.library is not None)
    again.close()


def test_about_names_versions_and_device(window):
    text = about_text("thumb16")
    assert f"AVR Studio {__version__}" in text
    assert "Compute device: cpu" in text or "Compute device: cuda" in text
    assert "PyAV" in text and "Qt " in text and "Library encoder: thumb16" in text
    assert window.about_action.text() == "&About AVR Studio"


def test_unwritable_index_folder_is_reported(app, qtbot, tmp_path, settings):
    target = tmp_path / "a file, not a folder"
    target.write_text("x")
    win = MainWindow(index_dir=str(target), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.last_error is not None, 20)
    assert "not a folder" in win.last_error
    assert win.library is None
    assert win.statusBar().currentMessage() == win.last_error
    win.close()


def test_dropping_a_file_sets_the_query(window, qtbot, library_folder):
    from PySide6 import QtGui

    path = library_folder / "bounce.mp4"
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    panel = window.query_panel
    pos = QtCore.QPointF(panel.rect().center())
    drop = QtGui.QDropEvent(
        pos,
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    panel.dropEvent(drop)
    assert window.query_path == str(path)
    assert panel.name.text() == "bounce.mp4"
    wait_for(qtbot, lambda: panel.duration > 0, 10)
    assert panel.out_box.value() == pytest.approx(panel.duration, abs=0.01)
    assert np.isfinite(panel.duration)


def test_settings_reach_the_window_and_a_new_query_clears_the_matches(
    app, qtbot, tmp_path, settings, library_folder
):
    from avr_gui.core.config import load_config

    config = load_config(
        user_file=tmp_path / "no config.toml",
        environ={},
        overrides={"query.top": 2, "verdict.alignable": 0.9, "verdict.unlikely": 0.6},
    )
    win = MainWindow(
        index_dir=str(tmp_path / "i"), backend="thumb16", settings=settings, config=config
    )
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.library is not None)
    assert win.ws.config is config and win.candidates.model.thresholds.alignable == 0.9
    win.add_folder(str(library_folder))
    wait_for(qtbot, lambda: win.index_job is not None and win.index_job.done, 60)
    _query(win, qtbot, library_folder / "query take.mp4")
    assert win.candidates.model.rowCount() == 2  # query.top
    wait_for(qtbot, lambda: win.match is not None, 10)
    # Moving the out point: the matches stay, said to be for another In/Out.
    win.query_panel.set_out(1.0)
    assert (
        win.ws.stale
        and win.candidates.stale
        and "find matches again" in win.candidates.stale_label.text()
    )
    # Another query: the matches of the last one go, and so does the selected pair.
    win.set_query(str(library_folder / "bounce.mp4"))
    assert win.candidates.model.rowCount() == 0 and win.match is None
    assert win.alignment.cost is None and win.result is None
    assert not win.export_actions["map"].isEnabled()
    win.close()
