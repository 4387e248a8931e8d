"""Before Qt starts: name the system libraries its X11 plugin needs and this machine lacks.

On a bare Debian or Ubuntu machine Qt's ``xcb`` platform plugin cannot load (it needs
``libxcb-cursor0``, ``libxcb-icccm4``, ``libxcb-keysyms1`` ... which desktop systems
have and minimal ones do not), and Qt then aborts the process with a message about
"xcb" that does not say what to install. ``ldd`` on the plugin lists every library it
would load, transitively, and marks the missing ones ``not found``: that list, mapped to
package names, is what the user needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: Library file -> the Debian/Ubuntu package that ships it (the ones Qt's xcb plugin and
#: its Qt libraries load that minimal images often lack).
DEBIAN_PACKAGES: Mapping[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libglib-2.0.so.0": "libglib2.0-0",
}

#: Platforms that need no display libraries (tests, headless rendering).
_HEADLESS = {"offscreen", "minimal", "vnc"}


def xcb_plugin() -> Path | None:
    """Qt's X11 platform plugin in the installed PySide6, if there is one.

    Returns
    -------
    pathlib.Path or None
    """
    try:
        import PySide6  # the package only: no Qt library is loaded by this
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_from_ldd(output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``, in order, without repeats.

    Parameters
    ----------
    output : str
        What ``ldd FILE`` printed.

    Returns
    -------
    list of str
        Library file names, e.g. ``["libxcb-cursor.so.0"]``.
    """
    missing: list[str] = []
    for line in output.splitlines():
        name, sep, where = line.strip().partition("=>")
        if sep and where.strip().startswith("not found") and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """System libraries Qt's X11 plugin would fail to load on this machine.

    Parameters
    ----------
    plugin : pathlib.Path, optional
        Default :func:`xcb_plugin`.

    Returns
    -------
    list of str
        Empty where nothing is missing, and where it cannot be told (not Linux, no
        ``ldd``, no plugin): then Qt's own message is all there is.
    """
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if not sys.platform.startswith("linux") or plugin is None or ldd is None:
        return []
    try:
        done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_from_ldd(done.stdout)


def missing_message(missing: list[str]) -> str:
    """One line: what is missing and the command that installs it on Debian/Ubuntu.

    Parameters
    ----------
    missing : list of str
        From :func:`missing_libraries` (not empty).

    Returns
    -------
    str
    """
    packages = [DEBIAN_PACKAGES[m] for m in missing if m in DEBIAN_PACKAGES]
    unknown = [m for m in missing if m not in DEBIAN_PACKAGES]
    text = f"the desktop app needs system libraries this machine lacks: {', '.join(missing)}"
    if packages:
        text += f"; on Debian/Ubuntu: sudo apt-get install {' '.join(packages)}"
    if unknown:
        text += f" (and the packages providing {', '.join(unknown)})"
    return text


def check_display_libraries(environ: Mapping[str, str] | None = None) -> str | None:
    """The one-line error to show instead of Qt's abort, or None when Qt can start.

    Parameters
    ----------
    environ : mapping, optional
        Default ``os.environ`` (``QT_QPA_PLATFORM`` decides whether X11 is needed).

    Returns
    -------
    str or None
    """
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if platform in _HEADLESS or platform.startswith("wayland"):
        return None
    missing = missing_libraries()
    return missing_message(missing) if missing else None
