"""An ``auto`` library in the app, for real: BlazePose + appearance features, verdicts.

Needs the BlazePose models (``avr models install pose``); the clips are the demo
generator's drawn people doing squats and side raises, plus an empty room.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore

from avr_gui.core.align.verdict import verdict_label
from avr_gui.core.demo.synth import write_video
from avr_gui.core.demo.synth_library import generate_library
from avr_gui.core.features.pose.models import pose_models_status
from avr_gui.gui.main_window import MainWindow
from avr_gui.gui.panels import candidates as C
from avr_gui.gui.panels import library_panel as L

pytestmark = pytest.mark.skipif(not pose_models_status()[0], reason=pose_models_status()[1])


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two squats and two side raises (drawn people), and an empty room."""
    d = tmp_path_factory.mktemp("auto") / "Auto clips ü"
    generate_library(
        d, actions=(0, 2), per_action=2, distractors=0, frames=(30, 36), fps=15, size=(192, 144)
    )
    write_video(d / "empty room.mp4", np.full((30, 144, 192, 3), (90, 120, 140), np.uint8), 15)
    return d


def test_auto_library_says_pose_or_appearance_everywhere(app, qtbot, tmp_path, settings, people):
    win = MainWindow(index_dir=str(tmp_path / "auto index"), backend="auto", settings=settings)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    wait_for(qtbot, lambda: win.library is not None, 60)
    assert "pose" not in win.notices.texts()  # the models are here
    win.add_folder(str(people))
    wait_for(qtbot, lambda: win.index_job is not None and win.index_job.done, 180)
    wait_for(qtbot, lambda: len(win.entries) == 5 and win.entries[0].status == "indexed", 20)
    # The library list: performers are compared by pose, the empty room by appearance.
    panel = win.library_panel
    assert panel.model.horizontalHeaderItem(L.PERSON_COLUMN).text() == "Compared by"
    assert "4 by body pose, 1 by appearance" in panel.features_label.text()
    cells = {Path(k).name: v for k, v in panel.person_cells().items()}
    assert cells["empty room.mp4"] == "Appearance"
    assert cells["action0_v00.mp4"] == cells["action0_v01.mp4"] == "Pose"
    # A squat as the query: matched by body pose, and the table says so per match.
    query = str(people / "action0_v00.mp4")
    win.set_query(query)
    win.run_query(query, None)
    wait_for(qtbot, lambda: win.query_job is not None and win.query_job.done, 120)
    assert win.last_error is None, win.last_error
    assert win.result.query_performer is True
    qp = win.query_panel
    assert qp.matched_by.isVisible() and qp.matched_by.text() == "matched by body pose"
    assert "body moves" in qp.matched_by.toolTip()
    table = win.candidates
    assert "pose similarity" in table.caption.text()
    assert not table.table.isColumnHidden(C.COMPARED_COLUMN)
    n = table.proxy.rowCount()
    assert n >= 2
    for r in range(n):
        row = table.row_of_view(r)
        assert table.cell(r, C.COMPARED_COLUMN) == row.match.compared_on == "pose"
        assert row.match.compared_parts == "whole body"  # drawn people, whole in frame
        badge = table.cell(r, C.VERDICT_COLUMN, C.BADGE_ROLE)
        p = row.match.alignable
        assert p is not None and badge.startswith(verdict_label(p) + " ")
        assert table.cell(r, C.VERDICT_COLUMN, C.BADGE_KIND_ROLE) == verdict_label(p)
        assert table.cell(r, C.DRAQ_COLUMN) == f"{row.draq:.3f}"
        part = table.cell(r, C.PART_COLUMN)
        assert (part == "whole") == (row.match.mode == "full")
    wait_for(qtbot, lambda: win.match is not None, 20)
    tip = table.cell(0, C.VERDICT_COLUMN, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "calibrated on held-out data" in tip
    win.close()
