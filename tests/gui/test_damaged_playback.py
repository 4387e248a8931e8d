"""Playing videos cut short: the player stops at the damage, says so once, never stalls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from guiutil import wait_for
from PySide6 import QtCore

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, write_video_av
from avr_gui.gui.frame_source import qimage_to_bgr
from avr_gui.gui.player import SyncedPlayer, TimeMap

FPS = 10.0
N = 100  # 10.0 s


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[object, Path]:
    """A 10 s clip whose frames carry their index, whole and cut at 40 % and 70 %."""
    d = tmp_path_factory.mktemp("damaged-play")
    frames = render_frames(0, np.linspace(0, 1, N), (160, 120), ClipStyle(seed=3), code=True)
    whole = d / "whole.mp4"
    write_video_av(whole, frames, FPS, container_options={"movflags": "faststart"})
    data = whole.read_bytes()
    out: dict[object, Path] = {"whole": whole}
    for pct in (40, 70):
        out[pct] = d / f"cut {pct}.mp4"
        out[pct].write_bytes(data[: len(data) * pct // 100])
    return out


@pytest.fixture
def player(app, qtbot):
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(900, 420)
    p.show()
    p.loop_box.setChecked(False)
    yield p
    p.close_sources()


def _load(
    qtbot, p: SyncedPlayer, query: Path, match: Path | None = None
) -> tuple[list[str], list[str]]:
    """Load the clips; the lists fill with the player's notices and errors."""
    notices: list[str] = []
    errors: list[str] = []
    p.notice.connect(notices.append)
    p.error.connect(errors.append)
    same = TimeMap(np.array([0.0, 10.0]), np.array([0.0, 10.0])) if match else None
    p.load(str(query), str(match) if match else None, same)
    wait_for(qtbot, lambda: p.ready and p.query.shown is not None)
    return notices, errors


@pytest.mark.parametrize("pct", [40, 70])
def test_damaged_query_plays_to_the_damage_forward_and_back(player, qtbot, clips, pct):
    notices, errors = _load(qtbot, player, clips[pct])
    wait_for(qtbot, lambda: len(notices) == 1, 5)
    readable = player.query.source.damaged_at
    assert readable is not None and readable < 10.0 * pct / 100
    assert notices == [f"query: damaged: plays to {readable:.1f} s of 10.0 s"]
    assert player.end == pytest.approx(readable, abs=1e-6)
    last = len(player.query.times) - 1

    player.play(8.0)
    wait_for(qtbot, lambda: not player.playing, 10)
    wait_for(qtbot, lambda: player.query.shown == last, 5)
    assert read_code(qimage_to_bgr(player.canvas.left)) == last
    assert f"damaged: plays to {readable:.1f} s of 10.0 s" in player.canvas.captions[0]

    player.play(-8.0)
    wait_for(qtbot, lambda: not player.playing, 10)
    wait_for(qtbot, lambda: player.query.shown == 0, 5)
    assert read_code(qimage_to_bgr(player.canvas.left)) == 0
    assert notices == [f"query: damaged: plays to {readable:.1f} s of 10.0 s"]  # once
    assert errors == []


def test_damaged_match_holds_its_last_readable_frame(player, qtbot, clips):
    notices, errors = _load(qtbot, player, clips["whole"], clips[70])
    wait_for(qtbot, lambda: len(notices) == 1, 5)
    assert notices[0].startswith("match: damaged: plays to ")
    last = len(player.match.times) - 1
    player.play(8.0)
    wait_for(qtbot, lambda: not player.playing, 10)
    wait_for(qtbot, lambda: player.shown_indices() == (N - 1, last), 5)
    assert read_code(qimage_to_bgr(player.canvas.right)) == last
    player.play(-8.0)
    wait_for(qtbot, lambda: not player.playing, 10)
    wait_for(qtbot, lambda: player.shown_indices() == (0, 0), 5)
    assert len(notices) == 1 and errors == []


def test_intact_clip_gives_no_notice(player, qtbot, clips):
    notices, errors = _load(qtbot, player, clips["whole"])
    assert player.end == pytest.approx(10.0, abs=1e-6)
    assert notices == errors == [] and "damaged" not in player.canvas.captions[0]


def test_library_panel_marks_damaged_clips(app, qtbot):
    from avr_gui.core.library.library import LibraryStatus, VideoEntry
    from avr_gui.gui.panels.library_panel import DAMAGED_MARK, DAMAGED_ROLE, LibraryPanel

    entries = [
        VideoEntry("/v/cut.mp4", "indexed", None, 10.0, 10.0, 160, 120, 40, None, 4.1),
        VideoEntry("/v/whole.mp4", "indexed", None, 10.0, 10.0, 160, 120, 100, None, None),
    ]
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    status = LibraryStatus(2, 2, 0, 0, [], [("/v/cut.mp4", 4.1, 10.0)])
    panel.show_state(["/v"], entries, status, "thumb16")
    UserRole = QtCore.Qt.ItemDataRole.UserRole
    cut, whole = panel.model.item(0, 0), panel.model.item(1, 0)
    assert cut.text() == f"{DAMAGED_MARK} cut.mp4" and cut.data(DAMAGED_ROLE) == 4.1
    assert "damaged: plays to 4.1 s of 10.0 s" in cut.toolTip()
    # The length column says how far it plays (and sorts by that).
    length = panel.model.item(0, 1)
    assert length.text() == f"{DAMAGED_MARK} 0:04.1" and length.data(UserRole) == 4.1
    assert length.toolTip() == "damaged: plays to 4.1 s of 10.0 s"
    assert panel.model.item(1, 1).text() == "0:10.0"
    assert "1 damaged" in panel.summary.text()
    assert whole.text() == "whole.mp4" and whole.data(DAMAGED_ROLE) is None
    assert "damaged" not in whole.toolTip()
