"""Window state kept between runs (Qt settings hold window state only; see DESIGN.md).

Stored: main-window geometry and dock layout, the player's view mode, speed, loop and
skeleton toggle, and which one-time notices were shown. App configuration (encoder,
index folder) comes from the command line and the config layers, never from here.
"""

from __future__ import annotations

from PySide6 import QtCore

ORG = "AVR Studio"
APP = "AVR Studio"
#: Version of the stored dock layout: a layout stored under another version is not
#: restored (the window opens on its default layout). 1: the alignment dock runs the
#: full height, sized for a readable cost matrix.
LAYOUT_VERSION = 1


def open_settings(path: str | None = None) -> QtCore.QSettings:
    """The settings store: the user's (default) or an INI file at ``path`` (tests)."""
    if path is not None:
        return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(ORG, APP)


def save_window(settings: QtCore.QSettings, window, extra: dict[str, object]) -> None:
    """Store ``window``'s geometry and dock state plus small UI values in ``extra``."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState(LAYOUT_VERSION))
    for key, value in extra.items():
        settings.setValue(f"ui/{key}", value)
    settings.sync()


def restore_window(settings: QtCore.QSettings, window) -> bool:
    """Restore geometry and dock state; ``True`` if there was something to restore."""
    geometry = settings.value("window/geometry")
    state = settings.value("window/state")
    ok = False
    if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
        ok = window.restoreGeometry(geometry)
    if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
        ok = window.restoreState(state, LAYOUT_VERSION) and ok
    return ok


def ui_value(settings: QtCore.QSettings, key: str, default: object, kind: type) -> object:
    """A small UI value stored by :func:`save_window`, converted to ``kind``."""
    value = settings.value(f"ui/{key}", default)
    try:
        if kind is bool and isinstance(value, str):
            return value.lower() == "true"
        return kind(value)
    except (TypeError, ValueError):
        return default


def first_time(settings: QtCore.QSettings, key: str) -> bool:
    """``True`` the first time this is asked for ``key`` in this store, then ``False``.

    For notices shown once per user (e.g. "running on the CPU").
    """
    name = f"once/{key}"
    if settings.value(name, False) in (True, "true"):
        return False
    settings.setValue(name, True)
    settings.sync()
    return True


def player_state(player) -> dict[str, object]:
    """The player's view settings to store with the window (:func:`save_window`)."""
    return {
        "mode": player.canvas.mode.value,
        "loop": player.loop_box.isChecked(),
        "speed_index": player.speed.currentIndex(),
        "skeleton": player.skeleton_box.isChecked(),
    }


def restore_player(settings: QtCore.QSettings, player, modes) -> None:
    """Give ``player`` the view settings :func:`player_state` stored.

    Parameters
    ----------
    settings : QSettings
    player : SyncedPlayer
    modes : iterable of ViewMode
        The player's view modes (the stored one is matched by value).
    """
    mode = ui_value(settings, "mode", "", str)
    for m in modes:
        if m.value == mode:
            player.set_mode(m)
    player.loop_box.setChecked(bool(ui_value(settings, "loop", True, bool)))
    speed = int(ui_value(settings, "speed_index", player.speed.currentIndex(), int))  # type: ignore[call-overload]
    if 0 <= speed < player.speed.count():
        player.speed.setCurrentIndex(speed)
    player.skeleton_box.setChecked(bool(ui_value(settings, "skeleton", True, bool)))
