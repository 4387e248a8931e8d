"""Helpers shared by the GUI tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import time


def wait_for(qtbot, condition, timeout: float = 30.0) -> None:
    """Process events until ``condition()`` holds (fails the test after ``timeout`` s)."""
    qtbot.waitUntil(condition, timeout=int(timeout * 1000))


def settle(qtbot, seconds: float) -> None:
    """Let the event loop run for ``seconds``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        qtbot.wait(10)
