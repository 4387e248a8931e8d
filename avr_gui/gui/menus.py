"""The main window's menus, toolbar and their actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtGui, QtWidgets

from avr_gui.core.workspace.exports import KINDS
from avr_gui.gui.about import show_about
from avr_gui.gui.grid import open_grid
from avr_gui.gui.player import ViewMode
from avr_gui.gui.shortcuts import show_shortcuts
from avr_gui.gui.teach_dialog import add_teach_actions


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


def build_help_menu(win: Any) -> QtWidgets.QMenu:
    """The Help menu: keyboard shortcuts, installing the pose models, About.

    Its actions become ``win.shortcuts_action``, ``win.install_pose_action`` and
    ``win.about_action``.

    Parameters
    ----------
    win : MainWindow

    Returns
    -------
    QMenu
    """
    K = QtGui.QKeySequence.StandardKey
    win.shortcuts_action = make_action(
        win,
        "&Keyboard shortcuts",
        lambda: show_shortcuts(win),
        tip="Every shortcut of the window and the player",
    )
    win.shortcuts_action.setShortcuts(
        [QtGui.QKeySequence(K.HelpContents), QtGui.QKeySequence("Ctrl+/")]
    )
    win.install_pose_action = make_action(
        win,
        "Install body-&pose models…",
        lambda: win.install_pose_models(),
        tip="Download the BlazePose models once (about 36 MB), for pose-aware search",
    )
    menu = win.menuBar().addMenu("&Help")
    menu.addAction(win.shortcuts_action)
    menu.addAction(win.install_pose_action)
    menu.addSeparator()
    menu.addAction(win.about_action)
    return menu


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
    win.grid_action = make_action(
        win,
        "Compare top matches in sync",
        lambda: open_grid(win),
        "Ctrl+G",
        tip="The query and its best matches tiled, each re-timed to the query (Ctrl+G)",
    )
    win.grid_action.setEnabled(False)
    # Enabled while there are matches to compare.
    win.ws.subscribe(lambda _event: win.grid_action.setEnabled(bool(win.ws.matches)))
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
    add_teach_actions(win, file_menu)  # Teach from folders…, Revert to the default features
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
    view_menu.addAction(win.grid_action)
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
    build_help_menu(win)

    tb = win.addToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setMovable(False)
    for a in (win.open_action, win.add_folder_action, win.index_action, win.run_action):
        tb.addAction(a)
    tb.addSeparator()
    for a in win.export_actions.values():
        tb.addAction(a)
    tb.addAction(win.grid_action)
