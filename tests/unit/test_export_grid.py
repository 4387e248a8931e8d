"""The grid export, the side-by-side plans, burn-in and the export folder (real encoding)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, speed_warp, write_video_av
from avr_gui.core.errors import InputError
from avr_gui.core.export import (
    TimeMap,
    compose,
    export_grid,
    frame_map,
    grid_layout,
    grid_shape,
    layout,
    tile_frames,
)
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video import FrameReader
from avr_gui.core.workspace.exports import EXPORTS_FOLDER, default_export_path, export_folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("grid")
    out = {}
    for name, n, fps, size in (
        ("query", 20, 10.0, (160, 120)),
        ("a", 30, 15.0, (160, 120)),
        ("b", 25, 10.0, (96, 160)),
    ):
        frames = render_frames(0, speed_warp(n, (1.0,)), size, ClipStyle(seed=n), code=True)
        out[name] = d / f"{name}.mp4"
        write_video_av(out[name], frames, fps)
    return out


def _times(path: Path) -> np.ndarray:
    with FrameReader(path) as r:
        return np.array(r.times)


def test_grid_shape_and_layout():
    assert [grid_shape(n) for n in (1, 2, 3, 4, 5, 6)] == [
        (1, 1), (2, 1), (2, 2), (2, 2), (3, 2), (3, 2),
    ]  # fmt: skip
    assert grid_shape(3, columns=3) == (3, 1) and grid_shape(3, columns=9) == (3, 1)
    plan = grid_layout([(160, 120), (1280, 720), (96, 160)])
    assert plan.size == (320, 240) and plan.cell == (160, 120)
    # A 16:9 picture fills the cell's width; a portrait one its height, centred.
    assert plan.boxes[1] == (160, 15, 160, 90)
    assert plan.boxes[2] == (44, 120, 72, 120)
    small = grid_layout([(1280, 720)] * 4, tile_height=361)
    assert small.cell == (644, 362) and small.size == (1288, 724)  # even sides
    with pytest.raises(InputError):
        grid_layout([])


def test_tile_frames_are_the_frame_map_rows_plus_the_nudge():
    qt = np.arange(10) / 10.0
    mt = np.arange(30) / 15.0
    tm = TimeMap(np.array([0.0, 0.9]), np.array([0.2, 1.5]))
    base = frame_map(tm, qt, mt).match_frame
    np.testing.assert_array_equal(tile_frames(tm, qt, mt), base)
    np.testing.assert_array_equal(tile_frames(tm, qt, mt, 2), np.clip(base + 2, 0, 29))
    np.testing.assert_array_equal(tile_frames(None, qt, qt, -1), np.clip(np.arange(10) - 1, 0, 9))


def test_export_grid_writes_every_tile_at_its_mapped_frame(clips, tmp_path):
    qt, at, bt = _times(clips["query"]), _times(clips["a"]), _times(clips["b"])
    ma = TimeMap(np.array([0.0, 1.9]), np.array([0.0, 1.9 * 1.4]))
    mb = TimeMap(np.array([0.0, 1.9]), np.array([0.3, 2.2]))
    out = tmp_path / "g.mp4"
    seen = []
    res = export_grid(
        clips["query"],
        [(clips["a"], ma), (clips["b"], mb)],
        out,
        nudges=[0, 3, -1],
        audio="none",
        progress=lambda d, t, m: seen.append(d),
    )
    assert res.size == (320, 240) and res.frame_count == 20 and out.exists()
    assert seen[-1] == 20
    np.testing.assert_array_equal(res.tile_frames[1], tile_frames(ma, qt, at, 3))
    np.testing.assert_array_equal(res.tile_frames[2], tile_frames(mb, qt, bt, -1))
    with FrameReader(out) as r:
        for i in (0, 7, 19):
            f = r.read(i)
            assert read_code(f[0:120, 0:160]) == i
            assert read_code(f[0:120, 160:320]) == res.tile_frames[1, i]


def test_export_grid_cancel_leaves_no_partial_file(clips, tmp_path):
    token = CancelToken()
    out = tmp_path / "cancelled.mp4"

    def progress(done, total, message):
        if done >= 10:
            token.cancel()

    tm = TimeMap(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    with pytest.raises(Cancelled):
        export_grid(clips["query"], [(clips["a"], tm)], out, progress=progress, cancel=token)
    assert os.listdir(tmp_path) == []
    with pytest.raises(InputError, match="one nudge per tile"):
        export_grid(clips["query"], [(clips["a"], tm)], out, nudges=[1])


def test_burn_in_changes_only_the_label_area():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    m = rng.integers(0, 255, (160, 96, 3), dtype=np.uint8)
    for arrangement, scale in (("left-right", "original"), ("top-bottom", "equal")):
        plan = layout("side-by-side", (160, 120), (96, 160), arrangement=arrangement, scale=scale)
        plain = compose(plan, q, m)
        burned = compose(plan, q, m, labels=("query take", "match 00:00:01:02 #12"))
        changed = np.argwhere((plain != burned).any(axis=2))
        assert len(changed) > 100
        # Every changed pixel lies in the top left corner of a panel: the labels.
        for box in (plan.query_box, plan.match_box):
            x, y, w, h = box
            inside = (changed[:, 1] >= x) & (changed[:, 1] < x + w)
            inside &= (changed[:, 0] >= y) & (changed[:, 0] < y + h)
            assert inside.any()
            assert changed[inside, 0].max() < y + h // 4 + 8
        in_some = np.zeros(len(changed), bool)
        for x, y, w, h in (plan.query_box, plan.match_box):
            in_x = (changed[:, 1] >= x) & (changed[:, 1] < x + w)
            in_some |= in_x & (changed[:, 0] >= y) & (changed[:, 0] < y + h // 4 + 8)
        assert in_some.all()


def test_side_by_side_plans():
    portrait, hd = (354, 630), (1280, 720)
    # The old plan (match fitted to the portrait query's width) still is the default.
    assert layout("side-by-side", portrait, hd).size == (354, 829)
    orig = layout("side-by-side", portrait, hd, arrangement="left-right", scale="original")
    assert orig.size == (1634, 720) and orig.match_box == (354, 0, 1280, 720)
    assert orig.query_box == (0, 45, 354, 630)
    eq = layout("side-by-side", portrait, hd, arrangement="left-right", scale="equal")
    assert eq.size == (405 + 1280, 720) and eq.match_box[2:] == (1280, 720)
    tb = layout("side-by-side", hd, hd, arrangement="top-bottom")
    assert tb.size == (1280, 1440) and tb.stacked
    with pytest.raises(InputError):
        layout("side-by-side", hd, hd, scale="huge")


def test_export_folder_is_outside_the_library(tmp_path):
    lib = tmp_path / "library"
    (lib / "sub").mkdir(parents=True)
    mine = tmp_path / "work"
    mine.mkdir()
    videos = tmp_path / "Videos"
    # A query inside the library: the user's videos folder.
    got = export_folder(str(lib / "sub" / "q.mp4"), [str(lib)], str(videos))
    assert Path(got) == videos / EXPORTS_FOLDER
    # A query from elsewhere: its own folder.
    assert export_folder(str(mine / "q.mp4"), [str(lib)], str(videos)) == str(mine)
    # Through a link into the library: still inside.
    (tmp_path / "link").symlink_to(lib)
    got = export_folder(str(tmp_path / "link" / "q.mp4"), [str(lib)], str(videos))
    assert Path(got) == videos / EXPORTS_FOLDER
    path = default_export_path(str(lib / "m.mp4"), "grid", got)
    assert path == str(videos / EXPORTS_FOLDER / "m_grid.mp4")
