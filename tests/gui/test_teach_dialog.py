"""The Teach dialog on real widgets: a real training job, its progress, Cancel, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from avr_gui.core.demo.pose_library import add_joint_clips
from avr_gui.core.demo.synth_library import generate_skeletons
from avr_gui.core.library import Library
from avr_gui.core.library.learned import DEFAULT_STEPS, checkpoint_step, learned_dir
from avr_gui.core.workspace.features import features_summary
from avr_gui.core.workspace.opening import snapshot
from avr_gui.gui import teach_dialog
from avr_gui.gui.teach_dialog import TeachDialog
from avr_gui.gui.workers import JobRunner

NAMES = {0: "squat", 1: "jack", 2: "raise"}


def _library(index: Path, folders: dict[int, str] = NAMES) -> str:
    sk = generate_skeletons(per_action=2, seed=4)
    with Library.open(index) as lib:
        add_joint_clips(lib, [(f"{folders[c.action]}/c{k}", c.joints) for k, c in enumerate(sk)])
    return str(index)


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.cancel_all()
    r.shutdown()


def test_the_dialog_offers_the_core_default_steps(qtbot, runner) -> None:
    dlg = TeachDialog("/nowhere", runner.submit)
    qtbot.addWidget(dlg)
    assert dlg.steps.value() == DEFAULT_STEPS and dlg.request().steps == DEFAULT_STEPS


@pytest.mark.slow
def test_teach_shows_progress_then_the_model_in_use(qtbot, runner, tmp_path: Path) -> None:
    index = _library(tmp_path / "idx")
    dlg = TeachDialog(index, runner.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.steps.setValue(3)
    taught = []
    dlg.taught.connect(taught.append)
    qtbot.mouseClick(dlg.teach_button, teach_dialog.QtCore.Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.teach_button.isEnabled()
    assert dlg.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: not dlg.running, timeout=300_000)
    assert taught and taught[0].info.clips == 6, dlg.status.text()
    assert dlg.status.text().startswith("Learned pose model in use: 6 clips of 3 labels")
    assert dlg.progress.value() == dlg.progress.maximum() == 3
    assert dlg.cancel_button.text() == "Close" and dlg.teach_button.isEnabled()
    with Library.open(index, readonly=True) as lib:
        snap = snapshot(lib)
    # What the library panel's features line says from now on.
    assert snap.learned is not None and snap.learned.clips == 6
    assert "by body pose (learned pose (model of " in features_summary(
        snap.encoder, snap.entries, snap.learned
    )


@pytest.mark.slow
def test_cancel_stops_training_and_keeps_its_checkpoint(qtbot, runner, tmp_path: Path) -> None:
    index = _library(tmp_path / "idx")
    dlg = TeachDialog(index, runner.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.steps.setValue(5000)
    dlg.start()
    qtbot.waitUntil(lambda: 1 <= dlg.progress.value(), timeout=300_000)
    assert dlg.progress.maximum() == 5000
    qtbot.mouseClick(dlg.cancel_button, teach_dialog.QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running, timeout=120_000)
    assert dlg.status.text().startswith("Stopped"), dlg.status.text()
    assert dlg.isVisible()  # Cancel stopped the training, it did not close the dialog
    steps = [checkpoint_step(c) for c in learned_dir(index).glob("checkpoint-*.npz")]
    assert len(steps) == 1 and 1 <= steps[0] < 5000
    assert not (learned_dir(index) / "current.json").exists()
    qtbot.mouseClick(dlg.cancel_button, teach_dialog.QtCore.Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()  # now it closes


def test_a_refusal_is_one_line_in_the_dialog(qtbot, runner, tmp_path: Path) -> None:
    index = _library(tmp_path / "idx", {0: "same", 1: "same", 2: "same"})
    dlg = TeachDialog(index, runner.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.start()
    qtbot.waitUntil(lambda: not dlg.running, timeout=60_000)
    text = dlg.status.text()
    assert "only one label ('same')" in text and "\n" not in text
    assert "color" in dlg.status.styleSheet()
    assert not learned_dir(index).exists()
    # A CSV chosen but not named: said at once, nothing started.
    dlg.by_csv.setChecked(True)
    assert dlg.csv_edit.isEnabled() and dlg.start() is None
    assert "CSV" in dlg.status.text()


def test_the_file_menu_teaches_and_reverts(window, qtbot) -> None:
    from guiutil import wait_for

    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert "&Teach from folders…" in texts and "Revert to the default features" in texts
    window.teach_action.trigger()
    dlg = window.teach_dialog
    assert dlg is not None and dlg.isVisible() and dlg.index_dir == window.ws.index_dir
    dlg.start()  # a thumb16 library has no body pose to learn from
    wait_for(qtbot, lambda: not dlg.running, 60)
    assert "automatic features" in dlg.status.text() and "\n" not in dlg.status.text()
    dlg.close()
    window.revert_learned_action.trigger()
    wait_for(qtbot, lambda: "default features" in window.statusBar().currentMessage(), 30)
