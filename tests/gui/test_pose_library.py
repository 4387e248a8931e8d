"""A pose library in the app, for real: MoveNet landmarks, person columns, skeletons, export.

Needs the MoveNet SinglePose .tflite (``AVR_MOVENET`` or the shared models folder); the
clips are the demo generator's drawn people plus an empty room.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore

from avr_gui.core.demo.synth import write_video
from avr_gui.core.demo.synth_library import generate_library
from avr_gui.core.video import FrameReader
from avr_gui.core.workspace.opening import open_library
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.main_window import MainWindow
from avr_gui.gui.panels import candidates as C
from avr_gui.gui.panels import library_panel as L
from avr_gui.gui.skeleton_overlay import MATCH_COLOUR, QUERY_COLOUR

# ../shared beside the checkout (as CI has it), unless AVR_MOVENET names the model.
_SHARED_MODEL = Path(__file__).resolve().parents[3] / "shared" / "models"
MOVENET = Path(
    os.environ.get("AVR_MOVENET", str(_SHARED_MODEL / "movenet_lightning_int8_4.tflite"))
)
pytestmark = pytest.mark.skipif(not MOVENET.is_file(), reason=f"no MoveNet model at {MOVENET}")


@pytest.fixture(scope="session")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two squats and a walker (drawn people), and an empty room."""
    d = tmp_path_factory.mktemp("people") / "Pose clips ü"
    generate_library(
        d, actions=(0,), per_action=2, distractors=1, frames=(30, 36), fps=15, size=(160, 120)
    )
    write_video(d / "empty room.mp4", np.full((30, 120, 160, 3), (90, 120, 140), np.uint8), 15)
    return d


def _count(img: np.ndarray, bgr, tol: float = 40.0) -> int:
    return int((np.linalg.norm(img.astype(float) - np.array(bgr), axis=2) < tol).sum())


def _bgr(colour) -> tuple[int, int, int]:
    return colour.blue(), colour.green(), colour.red()


def test_pose_library_person_columns_skeletons_and_export(app, qtbot, tmp_path, settings, people):
    win = MainWindow(
        index_dir=str(tmp_path / "pose index"),
        backend="pose-movenet",
        weights=str(MOVENET),
        settings=settings,
    )
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    wait_for(qtbot, lambda: win.library is not None, 20)
    win.add_folder(str(people))
    wait_for(qtbot, lambda: win.index_job is not None and win.index_job.done, 60)
    wait_for(qtbot, lambda: len(win.entries) == 4 and win.entries[0].status == "indexed", 20)
    # The library list says who has a person.
    panel = win.library_panel
    assert not panel.videos.isColumnHidden(L.PERSON_COLUMN)
    cells = {Path(k).name: v for k, v in panel.person_cells().items()}
    assert cells == {
        "action0_v00.mp4": "yes",
        "action0_v01.mp4": "yes",
        "distractor_00.mp4": "yes",
        "empty room.mp4": "no",
    }
    # Query a squat: the matches table says the same, the player gets both tracks.
    query = str(people / "action0_v00.mp4")
    win.set_query(query)
    win.run_query(query, None)
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 60)
    wait_for(qtbot, lambda: win.match is not None and win.player.ready, 20)
    table = win.candidates
    assert not table.table.isColumnHidden(C.PERSON_COLUMN)
    person = {
        Path(table.row_of_view(r).path).name: table.proxy.index(r, C.PERSON_COLUMN).data()
        for r in range(table.proxy.rowCount())
    }
    assert person["empty room.mp4"] == "no" and person["action0_v01.mp4"] == "yes"
    table.select_view_row(
        next(r for r in range(3) if table.row_of_view(r).path.endswith("action0_v01.mp4"))
    )
    wait_for(qtbot, lambda: win.match is not None and win.match.path.endswith("v01.mp4"), 10)
    wait_for(qtbot, lambda: win.player.ready and None not in win.player.shown_indices(), 20)
    assert win.query_pose is not None and win.match_pose is not None
    assert win.player.skeleton_box.isEnabled()
    # S toggles the skeletons (from anywhere in the window).
    win.player.skeleton_box.setChecked(False)
    win.player.seek(win.player.start + 0.5 * (win.player.end - win.player.start))
    wait_for(qtbot, lambda: None not in win.player.shown_indices(), 10)
    off = qimage_to_bgr(win.player.canvas.grab().toImage())
    qtbot.keyClick(win, QtCore.Qt.Key.Key_S)
    assert win.player.skeleton_box.isChecked()
    on = qimage_to_bgr(win.player.canvas.grab().toImage())
    for colour in (QUERY_COLOUR, MATCH_COLOUR):
        assert _count(on, _bgr(colour), 20) > _count(off, _bgr(colour), 20) + 30
    # The comparison export draws them too.
    act = win.skeleton_export_action
    assert act.isEnabled() and act.isChecked()
    plain, drawn = tmp_path / "plain.mp4", tmp_path / "skeletons.mp4"
    act.setChecked(False)
    h = win.export("side-by-side", "", str(plain))
    wait_for(qtbot, lambda: h.done, 60)
    act.setChecked(True)
    h = win.export("side-by-side", "", str(drawn))
    wait_for(qtbot, lambda: h.done, 60)
    assert win.last_error is None
    with FrameReader(plain) as a, FrameReader(drawn) as b:
        k = len(a.times) // 2
        fa, fb = a.read(k), b.read(k)
    assert fa.shape == fb.shape
    assert np.abs(fa.astype(int) - fb.astype(int)).sum(axis=2).astype(bool).mean() > 0.005
    win.close()


def test_an_indexed_library_keeps_its_encoder_and_says_so(tmp_path, people):
    from avr_gui.core.features import get_encoder
    from avr_gui.core.library import Library

    index = tmp_path / "thumb index"
    one = tmp_path / "one"
    one.mkdir()
    (one / "clip.mp4").write_bytes((people / "empty room.mp4").read_bytes())
    with Library.open(index, encoder=get_encoder("thumb16")) as lib:
        lib.add_folder(one)
        lib.index()
    opened = open_library(str(index), "pose-movenet", str(MOVENET))
    lib, notes = opened.library, opened.notices
    try:
        assert lib.encoder_name == "thumb16"
        assert any("keeps that encoder" in n.text and "--reindex" in n.text for n in notes)
    finally:
        lib.close()
    # An index with nothing indexed takes the encoder asked for, silently.
    open_library(str(tmp_path / "empty"), "thumb16", None).library.close()
    opened = open_library(str(tmp_path / "empty"), "pose-movenet", str(MOVENET))
    lib, notes = opened.library, opened.notices
    try:
        assert lib.encoder_name == "pose-movenet" and not [n for n in notes if n.key == "encoder"]
    finally:
        lib.close()
