"""Fixtures for the GUI tests: generated videos, a generated library, a main window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from guiutil import wait_for

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video

FPS = 15.0
# (action, frames, speeds, style): two takes of action 0, and two other actions.
LIBRARY = {
    "query take.mp4": (0, 40, (1.0,), ClipStyle(seed=1)),
    "warped take ü.mp4": (0, 56, (0.5, 2.0, 1.0), ClipStyle((90, 240, 120), (60, 45, 70), seed=2)),
    "figure eight.mp4": (1, 45, (1.0,), ClipStyle((60, 80, 230), seed=4)),
    "bounce.mp4": (2, 50, (1.0, 1.2), ClipStyle((200, 200, 200), seed=5)),
}
BAD = {"truncated.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(200), "empty.mp4": b""}


@pytest.fixture(scope="session")
def library_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder (unicode name) of generated clips plus a truncated and an empty file."""
    d = tmp_path_factory.mktemp("gui") / "Clips ünï"
    d.mkdir()
    for name, (action, n, speeds, style) in LIBRARY.items():
        write_video(d / name, render_frames(action, speed_warp(n, speeds), (160, 120), style), FPS)
    for name, data in BAD.items():
        (d / name).write_bytes(data)
    return d


@pytest.fixture(scope="session")
def coded_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips whose frames carry their own index (synth.draw_code), 20 fps, 160x120."""
    d = tmp_path_factory.mktemp("coded")
    out = {}
    for name, n in (("query", 40), ("match", 60)):
        frames = render_frames(0, np.linspace(0, 1, n), (160, 120), ClipStyle(seed=3), code=True)
        write_video(d / f"{name}.mp4", frames, 20.0)
        out[name] = d / f"{name}.mp4"
    return out


@pytest.fixture
def settings(tmp_path: Path):
    from avr_gui.gui.settings import open_settings

    return open_settings(str(tmp_path / "settings.ini"))


@pytest.fixture
def app(qapp):
    from avr_gui.gui.app import create_app

    return create_app([])


@pytest.fixture
def window(app, qtbot, tmp_path: Path, settings):
    """A main window on a fresh library index (thumb16 encoder), opened and shown."""
    from avr_gui.gui.main_window import MainWindow

    win = MainWindow(index_dir=str(tmp_path / "index"), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    wait_for(qtbot, lambda: win.library is not None)
    yield win
    if win.isVisible():
        win.close()


@pytest.fixture
def indexed(window, qtbot, library_folder: Path):
    """The window with the generated library added and indexed."""
    window.add_folder(str(library_folder))
    wait_for(qtbot, lambda: window.index_job is not None and window.index_job.done, 60)
    wait_for(qtbot, lambda: len(window.entries) == len(LIBRARY) + len(BAD))
    return window
