"""Help → Keyboard shortcuts (generated from the window), and dropping a video on the query."""

from __future__ import annotations

from pathlib import Path

import pytest
from guiutil import wait_for
from PySide6 import QtCore, QtGui, QtWidgets

from avr_gui.gui.shortcuts import PLAYER_GROUP, PLAYER_KEYS, ShortcutsDialog, player_keys

NATIVE = QtGui.QKeySequence.SequenceFormat.NativeText


def _native(portable: str) -> str:
    return QtGui.QKeySequence(portable).toString(NATIVE)


def _open_dialog(qtbot, win) -> ShortcutsDialog:
    win.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is win, timeout=3000)
    qtbot.keyClick(win, QtCore.Qt.Key.Key_F1)  # the action's shortcut, as a user presses it
    wait_for(qtbot, lambda: win.findChild(ShortcutsDialog) is not None, 5)
    dialog = win.findChild(ShortcutsDialog)
    assert dialog.isVisible()
    return dialog


def test_the_help_menu_lists_every_shortcut(window, qtbot):
    help_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"
    )
    texts = [a.text().replace("&", "") for a in help_menu.actions() if a.text()]
    assert texts[0] == "Keyboard shortcuts" and "About AVR Studio" in texts
    dialog = _open_dialog(qtbot, window)
    rows = {(r.keys, r.what): r.group for r in dialog.rows}
    # The window's actions, under their menu, with the platform's key names.
    assert rows[(_native("Ctrl+O"), "Open query")] == "File"
    assert rows[(_native("Ctrl+I"), "Index library")] == "File"
    assert rows[(_native("Ctrl+Return"), "Find matches")] == "File"
    assert rows[(f"{_native('F1')}, {_native('Ctrl+/')}", "Keyboard shortcuts")] == "Help"
    # The player's keys, found on the player itself.
    player = {r.keys: r.what for r in dialog.rows if r.group == PLAYER_GROUP}
    assert player[_native("Space")] == "Play / pause"
    assert player[_native("Shift+Right")] == "Step the match alone"
    assert player[_native("Ctrl+Left")] == "Step the query alone back"
    assert player[_native("I")].startswith("Set the In point")
    # Ctrl+I is the Index action's: the player never sees it, so it is not listed there.
    assert _native("Ctrl+I") not in player
    # The table shows the rows; the filter narrows them.
    assert dialog.table.rowCount() == len(dialog.rows)
    dialog.filter.setText("match alone")
    assert {r.keys for r in dialog.visible_rows()} == {
        _native("Shift+Right"),
        _native("Shift+Left"),
    }
    dialog.close()


def test_every_key_the_player_handles_has_words_and_does_what_they_say(app, qtbot):
    keys = player_keys()
    # A key added to the player without words in PLAYER_KEYS shows as "(player key)".
    assert [r.keys for r in keys if r.what == "(player key)"] == []
    assert {r.keys for r in keys} == {_native(k) for k in PLAYER_KEYS}


def test_a_new_action_shows_up_without_editing_the_list(window, qtbot):
    act = QtGui.QAction("Frobnicate the view", window)
    act.setShortcut(QtGui.QKeySequence("Ctrl+Shift+F12"))
    window.addAction(act)
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    assert (_native("Ctrl+Shift+F12"), "Frobnicate the view", "Window") in {
        (r.keys, r.what, r.group) for r in dialog.rows
    }


def _drag(widget: QtWidgets.QWidget, paths: list[Path], kind=QtCore.QEvent.Type.DragEnter):
    """Send a real drag-enter (or drop) event with file URLs to ``widget``."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.rect().center()
    actions = QtCore.Qt.DropAction.CopyAction
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    if kind == QtCore.QEvent.Type.DragEnter:
        event = QtGui.QDragEnterEvent(pos, actions, mime, buttons, mods)
    else:
        event = QtGui.QDropEvent(QtCore.QPointF(pos), actions, mime, buttons, mods)
    event.setAccepted(False)
    QtWidgets.QApplication.sendEvent(widget, event)
    return event


def test_dropping_a_video_on_the_query_area(window, qtbot, library_folder, tmp_path):
    panel = window.query_panel
    video = library_folder / "bounce.mp4"
    note = tmp_path / "notes.txt"
    note.write_text("not a video")
    # A folder or a document is refused at once; a video is taken.
    assert not _drag(panel, [library_folder]).isAccepted()
    assert not _drag(panel, [note]).isAccepted()
    assert _drag(panel, [note, video]).isAccepted()
    assert window.query_path is None  # entering is not dropping
    # Dropped on the name label inside the panel: Qt hands it up to the panel.
    drop = _drag(panel.name, [video], QtCore.QEvent.Type.Drop)
    assert drop.isAccepted()
    assert window.query_path == str(video) and panel.name.text() == "bounce.mp4"
    assert window.windowTitle().endswith("bounce.mp4")
    wait_for(qtbot, lambda: panel.duration > 0, 10)
    assert panel.out_box.value() == pytest.approx(panel.duration, abs=0.01)
    assert panel.run_button.isEnabled()
    # A refused drop changes nothing.
    assert not _drag(panel, [note], QtCore.QEvent.Type.Drop).isAccepted()
    assert window.query_path == str(video)
