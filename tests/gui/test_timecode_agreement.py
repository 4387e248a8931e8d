"""One timecode: the player, the grid and the burned-in exports read the same at NTSC rates.

The clips are Matroska files, whose container rounds every time to the millisecond
(29.97 fps steps read 0.033 and 0.034 s): the rate must come from
:func:`avr_gui.core.timecode.nominal_rate`, not a median step (30.3 fps), or frame 200
reads ``00:00:06:22`` in one place and ``00:00:06:20`` in another.
"""

from __future__ import annotations

import importlib
import threading

import numpy as np
import pytest
from guiutil import wait_for

from avr_gui.core.demo.synth import ClipStyle, render_frames, write_video_av
from avr_gui.core.export import export_grid, export_video, frame_map, frame_times
from avr_gui.core.timecode import clip_rate
from avr_gui.gui.grid import GridWindow, TileSpec
from avr_gui.gui.player import SyncedPlayer, TimeMap

# The package's ``compose`` and ``grid`` names are functions: the modules by name.
compose_module = importlib.import_module("avr_gui.core.export.compose")
grid_module = importlib.import_module("avr_gui.core.export.grid")
retime_module = importlib.import_module("avr_gui.core.export.retime")

FRAME = 200
N = 220
SAME = TimeMap(np.array([0.0, 10.0]), np.array([0.0, 10.0]))
# frame 200 and the length (220 frames) in each rate's timecode, counted by hand:
# 200 = 6 s + 20 frames at 30 per timecode second, 8 s + 8 at 24.
RATES = {
    "29.97": (30000 / 1001, "00:00:06:20", "00:00:07:10"),
    "23.976": (24000 / 1001, "00:00:08:08", "00:00:09:04"),
}


@pytest.fixture(scope="module")
def ntsc_clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("ntsc")
    frames = render_frames(0, np.linspace(0, 1, N), (64, 48), ClipStyle(seed=5))
    out = {}
    for name, (fps, _, _) in RATES.items():
        out[name] = d / f"take {name}.mkv"
        write_video_av(out[name], frames, fps, codec="mpeg4")
    return out


@pytest.mark.parametrize("name", list(RATES))
def test_the_container_rounds_times_but_the_rate_snaps(ntsc_clips, name):
    times = frame_times(ntsc_clips[name])
    steps = np.round(np.diff(times), 6)
    assert set(steps) <= {0.033, 0.034} or set(steps) <= {0.041, 0.042}  # milliseconds
    assert 1.0 / np.median(np.diff(times)) != pytest.approx(RATES[name][0], abs=0.1)
    assert clip_rate(times) == RATES[name][0]
    assert clip_rate(times[:1], 25.0) == 25.0 and clip_rate(None) == 30.0


@pytest.mark.parametrize("name", list(RATES))
def test_player_caption_and_time(app, qtbot, ntsc_clips, name):
    _, tc, length = RATES[name]
    p = SyncedPlayer()
    qtbot.addWidget(p)
    p.resize(700, 360)
    p.show()
    clip = str(ntsc_clips[name])
    p.load(clip, clip, SAME, span=None)
    wait_for(qtbot, lambda: p.ready and None not in p.shown_indices())
    p.seek(float(p.query.times[FRAME]))
    wait_for(qtbot, lambda: p.shown_indices() == (FRAME, FRAME))
    assert p.canvas.captions[0] == f"Query  {tc}  frame {FRAME}  {name} fps"
    assert p.canvas.captions[1] == f"Match  {tc}  frame {FRAME}  {name} fps"
    assert p.time_label.text() == f"{tc} / {length}"
    p.close_sources()


@pytest.mark.parametrize("name", list(RATES))
def test_grid_captions_and_time(app, qtbot, ntsc_clips, name):
    fps, tc, length = RATES[name]
    clip = str(ntsc_clips[name])
    g = GridWindow(TileSpec("query", clip), [TileSpec("match", clip, SAME)])
    qtbot.addWidget(g)
    g.resize(700, 400)
    g.show()
    wait_for(qtbot, lambda: g.ready and None not in g.shown_frames())
    g.seek(float(g.clock.times[0][FRAME]))
    wait_for(qtbot, lambda: g.shown_frames() == [FRAME, FRAME])
    assert [t.rate for t in g.tiles] == [fps, fps]
    assert [t.canvas.caption for t in g.tiles] == [f"{tc}  #{FRAME}"] * 2
    assert g.time_label.text() == f"{tc} / {length}  frame {FRAME}"
    g.close()


class _Spy:
    """Records the text of every ``label`` call and draws it with the real function."""

    def __init__(self, real):
        self.real = real
        self.texts: list[str] = []
        self.lock = threading.Lock()  # frames are composed on the prefetch thread

    def __call__(self, image, text, *args, **kwargs):
        with self.lock:
            self.texts.append(text)
        return self.real(image, text, *args, **kwargs)


@pytest.mark.parametrize("name", list(RATES))
def test_burn_in_text(ntsc_clips, tmp_path, monkeypatch, name):
    _, tc, _ = RATES[name]
    clip = ntsc_clips[name]
    times = frame_times(clip)
    fmap = frame_map(SAME, times, times)
    spies = {}
    for module in (compose_module, retime_module, grid_module):
        spies[module] = _Spy(module.label)
        monkeypatch.setattr(module, "label", spies[module])
    names = ("query", "match")
    opts = {"burn_in": True, "audio": "none", "names": names}
    export_video(clip, clip, tmp_path / "sbs.mp4", fmap, mode="side-by-side", **opts)
    pair = spies[compose_module].texts
    assert len(pair) == 2 * N
    assert pair[2 * FRAME : 2 * FRAME + 2] == [f"query  {tc}  #{FRAME}", f"match  {tc}  #{FRAME}"]
    export_video(clip, clip, tmp_path / "retimed.mp4", fmap, mode="retimed", **opts)
    assert spies[retime_module].texts[FRAME] == f"match  {tc}  #{FRAME} @ query #{FRAME}"
    export_grid(
        clip, [(clip, SAME)], tmp_path / "grid.mp4", names=names, burn_in=True, audio="none"
    )
    grid = spies[grid_module].texts
    assert grid[2 * FRAME : 2 * FRAME + 2] == [f"query  {tc}  #{FRAME}", f"match  {tc}  #{FRAME}"]
