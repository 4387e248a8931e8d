"""First run: the empty-library panel, the demo library end to end, notices, the version."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from guiutil import wait_for
from PySide6 import QtWidgets

from avr_gui import __version__
from avr_gui.core.features import default_backend
from avr_gui.core.features.pose.models import pose_models_status
from avr_gui.gui.main_window import CPU_NOTICE, MainWindow
from avr_gui.gui.panels.candidates import PERSON_COLUMN as TABLE_PERSON
from avr_gui.gui.panels.first_run import DEMO_QUERY, demo_ready, demo_step
from avr_gui.gui.panels.library_panel import PERSON_COLUMN as PANEL_PERSON

pytest.importorskip("avr_gui.core.library")


def _window(qtbot, tmp_path: Path, settings, **kwargs) -> MainWindow:
    kwargs.setdefault("index_dir", str(tmp_path / "home index"))
    kwargs.setdefault("backend", "thumb16")
    win = MainWindow(settings=settings, **kwargs)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    return win


def _cpu_only() -> bool:
    from avr_gui.core.device import resolve_device

    return resolve_device() == "cpu"


def test_first_run_panel_until_the_library_has_videos(window, qtbot, library_folder):
    win = window
    wait_for(qtbot, lambda: win.first_run_visible, 10)
    fr = win.first_run
    assert fr.isVisible() and not win.player.isVisible()
    assert fr.demo_button.text() == "Open the demo library"
    assert fr.folder_button.text() == "Add a folder…"
    assert fr.demo_button.isEnabled() and fr.folder_button.isEnabled()
    # The version is on show: title, status bar, About.
    assert __version__ in win.windowTitle()
    assert __version__ in win.status_version.text()
    if _cpu_only():
        assert "CPU" in win.status_version.text()
        assert win.notices.texts().get("device") == CPU_NOTICE
    win.add_folder(str(library_folder))
    wait_for(qtbot, lambda: win.index_job is not None and win.index_job.done, 60)
    wait_for(qtbot, lambda: not win.first_run_visible, 10)
    assert win.player.isVisible() and not fr.isVisible()
    # A library without pose shows no person column.
    assert win.library_panel.videos.isColumnHidden(PANEL_PERSON)


def test_open_the_demo_library_end_to_end(app, qtbot, tmp_path, settings):
    demo = tmp_path / "démo"
    win = _window(qtbot, tmp_path, settings, demo_dir=str(demo), demo_backend="thumb16")
    wait_for(qtbot, lambda: win.library is not None and win.first_run_visible, 10)
    steps: list[tuple[int, int, str]] = []
    t0 = time.monotonic()
    win.first_run.demo_button.click()
    h = win.demo_job
    assert h is not None
    h.progress.connect(lambda d, t, m: steps.append((d, t, m)))
    assert win.first_run.cancel_button.isEnabled() and not win.first_run.demo_button.isEnabled()
    wait_for(qtbot, lambda: h.done, 60)
    assert win.last_error is None
    # The demo library opens and its demo clip is queried.
    wait_for(qtbot, lambda: win.library is not None and win.showing_demo, 20)
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 30)
    elapsed = time.monotonic() - t0
    assert win.index_dir == str(demo / "index")
    assert win.query_path == str(demo / DEMO_QUERY)
    assert len(win.entries) == 15 and all(e.status == "indexed" for e in win.entries)
    assert not win.first_run_visible and win.player.isVisible()
    assert win.library_dock.windowTitle() == "Library (demo)"
    top = win.candidates.row_of_view(0)
    assert Path(top.path).name.startswith("action0_")  # another squat comes first
    assert win.candidates.table.isColumnHidden(TABLE_PERSON)  # thumb16 tracks no one
    wait_for(qtbot, lambda: win.match is not None, 10)
    assert demo_ready(demo, "thumb16") and not demo_ready(demo, "effnet-lite0")
    assert not demo_ready(demo)  # built with thumb16, not with a default encoder
    # Progress came through, step by step, with readable messages.
    messages = [m for _, _, m in steps]
    assert any(m.startswith("generating") for m in messages)
    assert any(demo_step(m).startswith("Indexing ") for m in messages)
    assert elapsed < 45, f"the thumb16 demo took {elapsed:.1f} s"
    win.close()
    # A second start finds the demo built: it opens without generating anything.
    stamp = (demo / DEMO_QUERY).stat().st_mtime_ns
    again = _window(qtbot, tmp_path, settings, demo_dir=str(demo), demo_backend="thumb16")
    assert "Built already" in again.first_run.demo_note.text()
    wait_for(qtbot, lambda: again.library is not None, 10)
    again.open_demo()
    wait_for(qtbot, lambda: again.query_job is not None and again.query_job.done, 30)
    assert (demo / DEMO_QUERY).stat().st_mtime_ns == stamp
    assert again.candidates.model.rowCount() > 0
    # Adding a folder goes back to the user's own library, never into the demo's.
    folder = tmp_path / "mine"
    folder.mkdir()
    again.add_folder(str(folder))
    wait_for(qtbot, lambda: again.library is not None and not again.showing_demo, 20)
    wait_for(qtbot, lambda: again.library_panel.folders.count() == 1, 20)
    assert again.index_dir == str(tmp_path / "home index")
    again.close()


def test_cancelling_the_demo_keeps_the_library(app, qtbot, tmp_path, settings):
    demo = tmp_path / "demo"
    win = _window(qtbot, tmp_path, settings, demo_dir=str(demo), demo_backend="thumb16")
    wait_for(qtbot, lambda: win.library is not None, 10)
    home = win.library
    h = win.open_demo()
    win.first_run.cancel_button.click()
    wait_for(qtbot, lambda: h.done, 30)
    assert "Cancelled" in win.first_run.message.text()
    assert win.library is home and not win.showing_demo
    assert win.first_run_visible and win.first_run.demo_button.isEnabled()
    assert not demo_ready(demo, "thumb16")
    win.close()


def test_cancelling_the_demo_from_the_menu_returns_to_the_library(indexed, qtbot, tmp_path):
    win = indexed
    assert not win.first_run_visible
    win.demo_dir = str(tmp_path / "menu demo")
    win.demo_action.trigger()
    h = win.demo_job
    assert win.first_run_visible and not win.demo_action.isEnabled()
    win.cancel_demo()
    wait_for(qtbot, lambda: h.done, 30)
    assert not win.first_run_visible and win.demo_action.isEnabled()
    assert not win.showing_demo and len(win.entries) == 6


def test_demo_into_an_unwritable_folder_says_why(app, qtbot, tmp_path, settings):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    win = _window(qtbot, tmp_path, settings, demo_dir=str(blocker / "demo"), demo_backend="thumb16")
    wait_for(qtbot, lambda: win.library is not None, 10)
    h = win.open_demo()
    wait_for(qtbot, lambda: h.done, 30)
    text = win.first_run.message.text()
    assert "could not be built" in text and win.first_run.message.isVisible()
    assert win.first_run.demo_button.isEnabled()
    win.close()


def test_weights_that_fail_fall_back_with_a_notice(app, qtbot, tmp_path, settings):
    pytest.importorskip("torch")
    bad = tmp_path / "my weights ü.pt"
    bad.write_bytes(b"not a state dict" * 10)
    win = _window(qtbot, tmp_path, settings, backend="effnet-lite0", weights=str(bad))
    wait_for(qtbot, lambda: win.library is not None or win.last_error is not None, 60)
    assert win.library is not None, win.last_error
    note = win.notices.texts().get("encoder", "")
    assert bad.name in note and "packaged ImageNet weights" in note
    assert win.encoder_name == "effnet-lite0"
    win.notices.dismiss("encoder")
    assert "encoder" not in win.notices.texts()
    win.close()


def test_a_backend_that_cannot_load_says_which_encoder_is_used(app, qtbot, tmp_path, settings):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x00" * 64)
    win = _window(qtbot, tmp_path, settings, backend="onnx", weights=str(bad))
    wait_for(qtbot, lambda: win.library is not None or win.last_error is not None, 60)
    assert win.library is not None, win.last_error
    note = win.notices.texts().get("encoder", "")
    # The library gets this machine's default: auto, or effnet-lite0 without pose models.
    assert "The onnx encoder could not be loaded" in note
    assert f"Using {default_backend()} instead" in note
    win.close()


def test_missing_pose_models_are_announced_once(
    app, qtbot, tmp_path, settings, monkeypatch, library_folder
):
    empty = tmp_path / "no models"
    empty.mkdir()
    monkeypatch.setenv("AVR_MODELS_DIR", str(empty))
    ok, status = pose_models_status()
    assert not ok and "avr models install pose" in status
    # A new library (no backend asked for): the default falls back, and the app says so.
    win = _window(qtbot, tmp_path, settings, backend=None)
    wait_for(qtbot, lambda: win.library is not None or win.last_error is not None, 60)
    assert win.library is not None, win.last_error
    note = win.notices.texts().get("pose", "")
    assert note.startswith(status[:1].upper() + status[1:])  # the models' own line
    assert "appearance features (effnet-lite0)" in note
    # Shown whole, install command included, without a dialog in the way.
    row = win.notices.row("pose")
    assert row is not None
    frame, label = row
    assert "avr models install pose" in label.text() and str(empty) in label.text()
    wait_for(qtbot, frame.isVisible, 5)
    assert win.first_run_visible  # above the first-run panel
    assert QtWidgets.QApplication.activeModalWidget() is None
    # Indexing the new library uses what the notice said.
    one = tmp_path / "one clip"
    one.mkdir()
    (one / "clip.mp4").write_bytes((library_folder / "query take.mp4").read_bytes())
    win.add_folder(str(one))
    wait_for(qtbot, lambda: win.index_job is not None and win.index_job.done, 120)
    assert win.library.encoder_name == "effnet-lite0", win.last_error
    # Once: dismissed, it does not come back when another library opens.
    win.notices.dismiss("pose")
    win.open_library(str(tmp_path / "another index"))
    wait_for(qtbot, lambda: win.library is not None, 60)
    assert "pose" not in win.notices.texts()
    win.close()


def test_the_cpu_notice_shows_once(app, qtbot, tmp_path, settings):
    if not _cpu_only():
        pytest.skip("this machine has a GPU")
    win = _window(qtbot, tmp_path, settings)
    wait_for(qtbot, lambda: win.library is not None, 10)
    assert "device" in win.notices.texts()
    win.close()
    again = _window(qtbot, tmp_path, settings)
    wait_for(qtbot, lambda: again.library is not None, 10)
    assert "device" not in again.notices.texts()
    assert "CPU" in again.status_version.text()  # the status bar still says so
    again.close()
