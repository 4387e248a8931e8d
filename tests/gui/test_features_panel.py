"""Features in the app: shown, switched (re-index, cancel), pose models installed, damage."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import BAD, LIBRARY
from guiutil import wait_for
from PySide6 import QtCore, QtWidgets

from avr_gui.core.demo.synth import ClipStyle, render_frames, write_video_av
from avr_gui.core.features.pose import models as pose_models
from avr_gui.gui.main_window import MainWindow
from avr_gui.gui.panels.library_panel import DAMAGED_MARK

pytest.importorskip("avr_gui.core.library")
N_VIDEOS = len(LIBRARY) + len(BAD)


def _answer_question(qtbot, win, button) -> None:
    """Click ``button`` of the "switch features?" question as soon as it shows."""

    def click() -> None:
        box = win.features.question
        if box is None:
            QtCore.QTimer.singleShot(20, click)
            return
        box.button(button).click()

    QtCore.QTimer.singleShot(20, click)


def _choose(box: QtWidgets.QComboBox, name: str) -> None:
    """Pick ``name`` in the combo box as a user does (the ``activated`` signal)."""
    row = box.findData(name)
    assert row >= 0
    box.setCurrentIndex(row)
    box.activated.emit(row)


def test_the_panel_shows_the_features_and_switches_them(indexed, qtbot, library_folder):
    win = indexed
    panel = win.library_panel
    box = panel.features_box
    assert box.currentData() == "thumb16" and box.isEnabled()
    assert panel.features_label.text() == "Features: Thumbnails (coarse)"
    wait_for(qtbot, lambda: win.features.options is not None, 20)
    effnet = next(c for c in win.features.options.choices if c.name == "effnet-lite0")
    if not effnet.usable:
        pytest.skip(f"effnet-lite0 cannot run here: {effnet.reason}")
    row = box.findData("effnet-lite0")
    assert box.model().item(row).isEnabled()
    query = str(library_folder / "query take.mp4")
    win.set_query(query)
    # Declined: nothing changes.
    _answer_question(qtbot, win, QtWidgets.QMessageBox.StandardButton.Cancel)
    _choose(box, "effnet-lite0")
    assert win.ws.encoder_name == "thumb16" and box.currentData() == "thumb16"
    assert win.library is not None
    # Accepted: the library opens again with the new features and indexes all again,
    # with the panel's progress and cancel.
    progress = []
    _answer_question(qtbot, win, QtWidgets.QMessageBox.StandardButton.Yes)
    _choose(box, "effnet-lite0")
    wait_for(qtbot, lambda: win.index_job is not None and not win.index_job.done, 30)
    win.index_job.progress.connect(lambda d, t, m: progress.append((d, t)))
    assert panel.cancel_button.isEnabled() and not box.isEnabled()
    wait_for(qtbot, lambda: win.index_job.done, 120)
    wait_for(qtbot, lambda: "4 indexed" in panel.summary.text(), 20)
    assert win.ws.encoder_name == "effnet-lite0" and box.currentData() == "effnet-lite0"
    assert panel.features_label.text() == "Features: Appearance"
    assert progress and progress[-1][0] == progress[-1][1]
    assert win.query_path == query  # the query file stays chosen
    assert box.isEnabled()


def _need(name: str) -> None:
    from avr_gui.core.features.registry import BACKENDS

    usable, why = BACKENDS[name].availability()
    if not usable:
        pytest.skip(f"{name} cannot run here: {why}")


def test_a_cancelled_switch_keeps_what_was_indexed(indexed, qtbot):
    _need("effnet-lite0")
    win = indexed
    panel = win.library_panel
    win.features.switch("effnet-lite0")
    wait_for(qtbot, lambda: win.index_job is not None and win.library is not None, 30)
    panel.cancel_button.click()
    wait_for(qtbot, lambda: win.index_job.done, 60)
    wait_for(qtbot, lambda: "pending" in panel.summary.text(), 20)
    assert win.ws.encoder_name == "effnet-lite0"
    # The next Index finishes the rest.
    panel.index_button.click()
    wait_for(qtbot, lambda: win.index_job.done and "4 indexed" in panel.summary.text(), 120)
    assert "pending" not in panel.summary.text()


@pytest.fixture(scope="module")
def local_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel holding the real BlazePose files, built from the models on this machine.

    Module-scoped, so it is built before :func:`model_dir` points the model folder
    elsewhere. Skips where the models are not installed (``avr models install pose``).
    """
    found = pose_models.find_pose_model_dir()
    if found is None:
        pytest.skip("no installed BlazePose models here to build a local wheel from")
    wheel = tmp_path_factory.mktemp("wheel") / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for f in pose_models.BLAZEPOSE_FILES:
            zf.write(found / f.name, f.member)
    return wheel


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model folder in place of the user's (installs go there)."""
    folder = tmp_path / "pose models"
    monkeypatch.setenv(pose_models.MODELS_ENV, str(folder))
    return folder


@pytest.fixture
def bare_window(app, qtbot, tmp_path, settings, model_dir):
    win = MainWindow(index_dir=str(tmp_path / "index"), backend="thumb16", settings=settings)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.library is not None)
    yield win
    if win.isVisible():
        win.close()


def test_pose_models_install_from_the_app(bare_window, qtbot, model_dir, local_wheel):
    win = bare_window
    panel = win.library_panel
    # Without the models: the notice offers to install them, and so does the panel.
    wait_for(qtbot, lambda: win.features.options is not None, 20)
    assert "pose" in win.notices.texts()
    assert win.notices.action_button("pose") is not None
    assert not panel.install_pose_button.isHidden()
    steps = []
    h = win.install_pose_models(wheel=str(local_wheel))
    h.progress.connect(lambda d, t, m: steps.append(m))
    assert win.features.install_dialog is not None and win.features.install_dialog.isVisible()
    assert win.install_pose_models(wheel=str(local_wheel)) is h  # one at a time
    wait_for(qtbot, lambda: h.done, 60)
    assert "pose models installed" in steps
    assert win.features.install_dialog is None
    for f in pose_models.BLAZEPOSE_FILES:
        assert pose_models.file_intact(model_dir / f.name, f.sha256)
    # The notice says so and offers automatic features (this library is thumb16).
    text = win.notices.texts()["pose"]
    assert text.startswith("Body-pose models installed") and "automatic" in text
    assert win.notices.action_button("pose").text() == "Use automatic features…"
    wait_for(qtbot, lambda: panel.install_pose_button.isHidden(), 20)


def test_a_failed_install_says_why_and_a_cancel_stops_it(bare_window, qtbot, model_dir, tmp_path):
    win = bare_window
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a wheel")
    h = win.install_pose_models(wheel=str(bad))
    wait_for(qtbot, lambda: h.done, 30)
    text = win.notices.texts()["pose-install"]
    assert "could not be installed" in text and "not a readable wheel" in text
    assert win.notices.action_button("pose-install").text() == "Try again"
    assert win.features.install_dialog is None
    # A real download (pip), cancelled from the dialog: pip stops at once.
    h = win.install_pose_models()
    dialog = win.features.install_dialog
    wait_for(qtbot, lambda: "ownloading" in dialog.labelText(), 10)
    dialog.findChild(QtWidgets.QPushButton).click()
    wait_for(qtbot, lambda: h.done, 10)
    assert "cancelled" in win.statusBar().currentMessage()
    assert not any(model_dir.glob("*.tflite"))


@pytest.fixture(scope="module")
def damaged_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s clip and a copy of it cut at 40 %."""
    d = tmp_path_factory.mktemp("damaged lib")
    frames = render_frames(0, np.linspace(0, 1, 100), (160, 120), ClipStyle(seed=3), code=True)
    whole = d / "whole.mp4"
    write_video_av(whole, frames, 10.0, container_options={"movflags": "faststart"})
    data = whole.read_bytes()
    (d / "cut.mp4").write_bytes(data[: len(data) * 40 // 100])
    return d


def test_a_damaged_clip_shows_how_far_it_plays(window, qtbot, damaged_folder):
    from avr_gui.core.video import readable_duration

    window.add_folder(str(damaged_folder))
    wait_for(qtbot, lambda: window.index_job is not None and window.index_job.done, 60)
    panel = window.library_panel
    wait_for(qtbot, lambda: panel.model.rowCount() == 2 and "2 indexed" in panel.summary.text())
    rows = {panel.model.item(r, 0).text(): r for r in range(2)}
    assert set(rows) == {f"{DAMAGED_MARK} cut.mp4", "whole.mp4"}
    readable = readable_duration(damaged_folder / "cut.mp4").readable_s
    r = rows[f"{DAMAGED_MARK} cut.mp4"]
    length = panel.model.item(r, 1)
    assert length.text().startswith(DAMAGED_MARK) and "of 10.0 s" in length.toolTip()
    assert length.toolTip() == f"damaged: plays to {readable:.1f} s of 10.0 s"
    assert f"plays to {readable:.1f} s of 10.0 s" in panel.model.item(r, 0).toolTip()
    assert readable < 6.0
    assert "1 damaged" in panel.summary.text()
