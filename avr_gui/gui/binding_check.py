"""A start-up check that the Qt binding keeps Python's reference counts straight.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a Qt
method that returns nothing (``setText``, ``update``, ``processEvents`` ...), and
references to ``True``/``False`` too. Python 3.11 frees objects whose count reaches
zero, ``None`` included, so the interpreter aborts with ``Fatal Python error:
none_dealloc`` once enough calls have been made: playing two 720p clips side by side
made about 840 such calls a second and the app died after ~35 s (measured; see
docs/RESULTS.md). From Python 3.12 on, ``None``, ``True`` and ``False`` are immortal
and the bug is harmless.

pyproject.toml keeps that release out (``<6.12``), but a user's environment may
differ, so the app probes the binding it actually runs on and refuses to start with a
clear message rather than crash mid-session and lose the user's place.
"""

from __future__ import annotations

import platform
import sys

from PySide6 import QtCore

#: Calls of a void Qt method made by the probe.
PROBE_CALLS = 200
#: Before Python 3.12 a lost reference can free None, True or False (PEP 683).
MORTAL_SINGLETONS = sys.version_info < (3, 12)


class QtBindingError(RuntimeError):
    """The installed Qt binding corrupts reference counts (see the module docstring)."""


def refcount_drift(calls: int = PROBE_CALLS) -> dict[str, int]:
    """Change in the reference counts of ``None``/``True``/``False`` over ``calls`` calls.

    Each call is a Qt method that returns nothing (``QObject.setObjectName``) and one
    that returns a bool (``QObject.signalsBlocked``); a sound binding leaves every
    count where it was (give or take a few references held elsewhere meanwhile).

    Returns
    -------
    dict
        ``{"None": int, "True": int, "False": int}``: count after minus count before.
    """
    obj = QtCore.QObject()
    before = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
    for _ in range(calls):
        obj.setObjectName("probe")
        obj.signalsBlocked()
    after = {k: sys.getrefcount(v) for k, v in (("None", None), ("True", True), ("False", False))}
    del obj
    return {k: after[k] - before[k] for k in before}


def check_binding(calls: int = PROBE_CALLS) -> None:
    """Raise :class:`QtBindingError` if the binding loses references (Python < 3.12 only).

    Raises
    ------
    QtBindingError
        With the PySide6 version and what to install instead.
    """
    if not MORTAL_SINGLETONS:
        return
    drift = refcount_drift(calls)
    lost = {k: -d for k, d in drift.items() if d <= -calls // 2}
    if lost:
        import PySide6

        raise QtBindingError(
            f"PySide6 {PySide6.__version__} on Python {platform.python_version()} loses a "
            f"reference to {', '.join(lost)} on every Qt call, "
            "which crashes the app within a minute of playback. Install a release without the bug: "
            "pip install 'PySide6-Essentials<6.12' (or run on Python 3.12 or newer)."
        )
