"""The main window's menus, toolbar and their actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtGui

from avr_gui.core.workspace.exports import KINDS
from avr_gui.gui.about import show_about
from avr_gui.gui.player import ViewMode


def make_action(
    parent: Any, text: str, slot: Callable[..., Any], shortcut: Any = None, tip: str = ""
) -> QtGui.QAction:
    """An action with an optional shortcut and tooltip, connected to ``slot``.

    Parameters
    ----------
    parent : QObject
    text : str
    slot : callable
    shortcut : QKeySequence.StandardKey or str, optional
    tip : str
        Tooltip and status tip.

    Returns
    -------
    QAction
    """
    a = QtGui.QAction(text, parent)
    if shortcut is not None:
        a.setShortcut(QtGui.QKeySequence(shortcut))
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.triggered.connect(slot)
    return a


def build_menus(win: Any) -> None:
    """Give the main window ``win`` its actions, menus and toolbar.

    The actions become attributes of ``win`` (``open_action``, ``index_action``,
    ``export_actions`` by kind, ``skeleton_export_action``, ...), which the window
    enables and disables as the workspace changes.

    Parameters
    ----------
    win : MainWindow
    """
    K = QtGui.QKeySequence.StandardKey
    qp, lp = win.query_panel, win.library_panel
    win.open_action = make_action(win, "&Open query…", qp.choose_file, K.Open)
    win.add_folder_action = make_action(win, "&Add folder to library…", lp.choose_folder)
    win.index_action = make_action(win, "&Index library", win.start_index, "Ctrl+I")
    win.run_action = make_action(win, "&Find matches", qp.request_run, "Ctrl+Return")
    win.quit_action = make_action(win, "&Quit", win.close, K.Quit)
    win.about_action = make_action(
        win, "&About AVR Studio", lambda: show_about(win, win.ws.encoder_name)
    )
    win.demo_action = make_action(
        win,
        "Open the &demo library",
        win.open_demo,
        tip="Build (once) and open a demo library",
    )
    win.skeleton_export_action = QtGui.QAction("Draw skeletons in the side-by-side", win)
    win.skeleton_export_action.setCheckable(True)
    win.skeleton_export_action.setChecked(True)
    win.export_actions = {}
    for label, kind, filt in KINDS:
        act = make_action(win, label, lambda _=False, k=kind, f=filt: win.export(k, f))
        act.setEnabled(False)
        act.setToolTip(win.ws.export_reason or "Select a match first")
        win.export_actions[kind] = act

    file_menu = win.menuBar().addMenu("&File")
    for a in (win.open_action, win.add_folder_action, win.index_action, win.run_action):
        file_menu.addAction(a)
    file_menu.addSeparator()
    export_menu = file_menu.addMenu("&Export")
    export_menu.setToolTipsVisible(True)
    for a in win.export_actions.values():
        export_menu.addAction(a)
    export_menu.addSeparator()
    export_menu.addAction(win.skeleton_export_action)
    why = win.ws.skeleton_reason()
    win.skeleton_export_action.setEnabled(not why)
    win.skeleton_export_action.setToolTip(why)
    file_menu.addSeparator()
    file_menu.addAction(win.demo_action)
    file_menu.addSeparator()
    file_menu.addAction(win.quit_action)
    view_menu = win.menuBar().addMenu("&View")
    for dock in (win.library_dock, win.candidates_dock, win.alignment_dock):
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    for mode in ViewMode:
        view_menu.addAction(
            make_action(win, mode.value, lambda _=False, m=mode: win.player.set_mode(m))
        )
    view_menu.addSeparator()
    fs = make_action(
        win, "&Full screen", win.fullscreen.toggle, "F11", "The player alone (Esc leaves)"
    )
    fs.setCheckable(True)
    win.fullscreen.toggled.connect(fs.setChecked)
    win.addAction(fs)  # F11 works with the menu bar hidden, in full screen
    view_menu.addAction(fs)
    win.fullscreen_action = fs
    win.menuBar().addMenu("&Help").addAction(win.about_action)

    tb = win.addToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setMovable(False)
    for a in (win.open_action, win.add_folder_action, win.index_action, win.run_action):
        tb.addAction(a)
    tb.addSeparator()
    for a in win.export_actions.values():
        tb.addAction(a)
