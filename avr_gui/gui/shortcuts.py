"""Help → Keyboard shortcuts: every shortcut of the window, read from the window itself.

The list is generated, so it cannot drift from what the keys do:

- the window's actions (menus, toolbar) with their shortcuts, under the menu that
  holds them, and any :class:`QShortcut` the window has (described by its
  ``whatsThis``);
- the player's keys, found by offering each candidate key to a fresh, empty
  :class:`~avr_gui.gui.player.SyncedPlayer` and keeping those its key handler accepts
  (the window passes every key nothing else used on to the player). Their words come
  from :data:`PLAYER_KEYS`; a key the player handles that has no words there is still
  listed, as "(player key)", and the tests fail on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

_K = QtCore.Qt.Key
_M = QtCore.Qt.KeyboardModifier
#: What each player key does, by its portable key text.
PLAYER_KEYS: dict[str, str] = {
    "Space": "Play / pause",
    "K": "Pause",
    "L": "Play forward (again: faster)",
    "J": "Play backwards (again: faster)",
    "Right": "Step one frame, both sides",
    "Left": "Step back one frame, both sides",
    "Ctrl+Right": "Step the query alone",
    "Ctrl+Left": "Step the query alone back",
    "Shift+Right": "Step the match alone",
    "Shift+Left": "Step the match alone back",
    "Home": "Go to the start",
    "End": "Go to the end",
    "I": "Set the In point at the current query time",
    "O": "Set the Out point at the current query time",
    "S": "Show / hide the skeletons",
    "+": "Zoom in (both videos)",
    "=": "Zoom in (both videos)",
    "-": "Zoom out (both videos)",
    "0": "Fit the videos to the view",
}
#: Keys offered to the player when looking for the ones it handles.
_CANDIDATES = (
    [getattr(_K, f"Key_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    + [getattr(_K, f"Key_F{n}") for n in range(1, 13)]
    + [
        _K.Key_Space,
        _K.Key_Left,
        _K.Key_Right,
        _K.Key_Up,
        _K.Key_Down,
        _K.Key_Home,
        _K.Key_End,
        _K.Key_PageUp,
        _K.Key_PageDown,
        _K.Key_Plus,
        _K.Key_Minus,
        _K.Key_Equal,
        _K.Key_Comma,
        _K.Key_Period,
        _K.Key_Slash,
        _K.Key_BracketLeft,
        _K.Key_BracketRight,
        _K.Key_Return,
        _K.Key_Escape,
        _K.Key_Delete,
        _K.Key_Backspace,
    ]
)
_MODIFIERS = (
    _M.NoModifier,
    _M.ShiftModifier,
    _M.ControlModifier,
    _M.AltModifier,
    _M.ControlModifier | _M.ShiftModifier,
)
#: Group of the player's keys in the list.
PLAYER_GROUP = "Player"


@dataclass(frozen=True)
class Shortcut:
    """One row of the list.

    Attributes
    ----------
    keys : str
        As the platform writes them (``"Ctrl+O"``; several separated by ``", "``).
    what : str
        What it does.
    group : str
        Where it lives: a menu (``"File"``), the player, or the window.
    """

    keys: str
    what: str
    group: str


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _native(seqs: list[QtGui.QKeySequence]) -> str:
    fmt = QtGui.QKeySequence.SequenceFormat.NativeText
    return ", ".join(s.toString(fmt) for s in seqs if not s.isEmpty())


def _menu_groups(win: QtWidgets.QMainWindow) -> dict[int, str]:
    """The menu path (``"File › Export"``) of every action in the menu bar, by id."""
    out: dict[int, str] = {}

    def walk(menu: QtWidgets.QMenu, path: str) -> None:
        for act in menu.actions():
            sub = act.menu()
            if sub is not None:
                walk(sub, f"{path} › {_clean(sub.title())}")
            else:
                out.setdefault(id(act), path)

    for act in win.menuBar().actions():
        if act.menu() is not None:
            walk(act.menu(), _clean(act.menu().title()))
    return out


def action_shortcuts(win: QtWidgets.QMainWindow) -> list[Shortcut]:
    """The shortcuts of the window's actions and :class:`QShortcut` objects.

    Parameters
    ----------
    win : QMainWindow

    Returns
    -------
    list of Shortcut
        In menu order, then the rest by key.
    """
    groups = _menu_groups(win)
    rows: list[Shortcut] = []
    seen: set[tuple[str, str]] = set()
    for act in win.findChildren(QtGui.QAction):
        keys = _native(act.shortcuts())
        if not keys:
            continue
        row = Shortcut(keys, _clean(act.text()), groups.get(id(act), "Window"))
        if (row.keys, row.what) not in seen:
            seen.add((row.keys, row.what))
            rows.append(row)
    for sc in win.findChildren(QtGui.QShortcut):
        keys = _native([sc.key()])
        if keys and sc.isEnabled():
            what = sc.whatsThis() or sc.objectName() or "(shortcut)"
            rows.append(Shortcut(keys, what, "Window"))
    order = {g: k for k, g in enumerate(dict.fromkeys(groups.values()))}
    rows.sort(key=lambda r: (order.get(r.group, len(order)), r.group))
    return rows


def _handles(player: QtWidgets.QWidget, key: Any, mods: Any) -> bool:
    event = QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, key, mods, "")
    player.keyPressEvent(event)  # an unhandled key is ignored by QWidget's handler
    return event.isAccepted()


def player_keys(player_type: type | None = None) -> list[Shortcut]:
    """The keys the player handles, found on a fresh, empty player (see the module).

    Parameters
    ----------
    player_type : type, optional
        The player class (default :class:`~avr_gui.gui.player.SyncedPlayer`).

    Returns
    -------
    list of Shortcut
        Unmodified keys, and a key with modifiers where :data:`PLAYER_KEYS` gives it
        words of its own or the key alone does nothing (else it does what the key
        alone does).
    """
    if player_type is None:
        from avr_gui.gui.player import SyncedPlayer

        player_type = SyncedPlayer
    player = player_type()
    player.blockSignals(True)  # I and O would ask for in/out points: nobody listens
    # Never on screen, whatever a key does to it (a full-screen key would show it).
    player.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    portable = QtGui.QKeySequence.SequenceFormat.PortableText
    rows = []
    try:
        for key in _CANDIDATES:
            plain = _handles(player, key, _M.NoModifier)
            for mods in _MODIFIERS:
                if mods != _M.NoModifier and not _handles(player, key, mods):
                    continue
                if mods == _M.NoModifier and not plain:
                    continue
                seq = QtGui.QKeySequence(QtCore.QKeyCombination(mods, key))
                what = PLAYER_KEYS.get(seq.toString(portable))
                if what is None and mods != _M.NoModifier and plain:
                    continue  # the same as the key alone
                rows.append(Shortcut(_native([seq]), what or "(player key)", PLAYER_GROUP))
    finally:
        player.deleteLater()
    return rows


def all_shortcuts(win: QtWidgets.QMainWindow) -> list[Shortcut]:
    """The window's action shortcuts, then the player's keys.

    A player key that an action's shortcut takes first is left out: the action wins.
    """
    actions = action_shortcuts(win)
    taken = {k.strip() for r in actions for k in r.keys.split(",")}
    return actions + [r for r in player_keys(type(win.player)) if r.keys not in taken]


class ShortcutsDialog(QtWidgets.QDialog):
    """The list of :func:`all_shortcuts`, with a filter.

    Parameters
    ----------
    win : MainWindow
    """

    def __init__(self, win: QtWidgets.QMainWindow) -> None:
        super().__init__(win)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = all_shortcuts(win)
        self.filter = QtWidgets.QLineEdit()
        self.filter.setPlaceholderText("Filter by key or action…")
        self.filter.setClearButtonEnabled(True)
        self.table = QtWidgets.QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.keys, row.what, row.group)):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.filter.textChanged.connect(self._apply_filter)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        note = QtWidgets.QLabel(
            "Player keys work anywhere in the window, except while a text or number box "
            "has the keyboard focus."
        )
        note.setObjectName("dim")
        note.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(close)
        self.resize(620, 560)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for r, row in enumerate(self.rows):
            hay = f"{row.keys} {row.what} {row.group}".lower()
            self.table.setRowHidden(r, bool(needle) and needle not in hay)

    def visible_rows(self) -> list[Shortcut]:
        """The rows shown after filtering."""
        return [row for r, row in enumerate(self.rows) if not self.table.isRowHidden(r)]


def show_shortcuts(win: QtWidgets.QMainWindow) -> ShortcutsDialog:
    """Open (non-modal) the keyboard shortcuts of ``win``; returns the dialog."""
    dialog = ShortcutsDialog(win)
    dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
