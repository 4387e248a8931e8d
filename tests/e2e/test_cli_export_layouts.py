"""``avr export --grid`` and the side-by-side layouts end to end on generated videos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, speed_warp, write_video_av
from avr_gui.core.video import FrameReader, probe


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A query and three takes whose frames carry their own number (160x120, H.264)."""
    d = tmp_path_factory.mktemp("grid clips ü")
    specs = {
        "query": (30, (1.0,), 15.0, 1),
        "slow": (45, (0.5, 2.0), 25.0, 2),
        "fast": (24, (1.5, 1.0), 15.0, 3),
        "even": (36, (1.0,), 20.0, 4),
    }
    out = {}
    for name, (n, speeds, fps, seed) in specs.items():
        frames = render_frames(
            0, speed_warp(n, speeds), (160, 120), ClipStyle(seed=seed), code=True
        )
        out[name] = d / f"{name}.mp4"
        write_video_av(out[name], frames, fps)
    return out


def _codes(path: Path, box: tuple[int, int, int, int]) -> list[int]:
    x, y, w, h = box
    with FrameReader(path) as r:
        return [read_code(r.read(i)[y : y + h, x : x + w]) for i in range(len(r))]


def test_grid_tiles_each_match_at_the_frames_its_pair_export_shows(avr, coded, tmp_path):
    out = tmp_path / "grid ü.mp4"
    r = avr(
        "export", coded["query"], coded["slow"], coded["fast"], coded["even"], "--grid",
        "--out", out, "--backend", "thumb16", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    s = r.json()
    # 4 tiles of the query's 160x120 in 2x2; the query's 30 frames at its 15 fps.
    assert (s["width"], s["height"], s["frames"], s["fps"]) == (320, 240, 30, 15.0)
    assert [t["path"] for t in s["matches"]] == [str(coded[k]) for k in ("slow", "fast", "even")]
    info = probe(out, count_frames=True)
    assert (info.width, info.height, info.frame_count) == (320, 240, 30)
    assert _codes(out, (0, 0, 160, 120)) == list(range(30))
    # Each tile shows the frame the pair export of that match writes (the same map).
    for name, box in (("slow", (160, 0, 160, 120)), ("even", (160, 120, 160, 120))):
        pair = tmp_path / f"{name}.json"
        rp = avr(
            "export", coded["query"], coded[name], "--out", tmp_path / f"{name}.mp4",
            "--map", pair, "--backend", "thumb16",
        )  # fmt: skip
        assert rp.code == 0, rp.err
        rows = json.loads(pair.read_text())["frames"]
        assert _codes(out, box) == [row["match_frame"] for row in rows]


def test_grid_refuses_what_does_not_apply(avr, coded, tmp_path):
    r = avr("export", coded["query"], coded["slow"], coded["fast"], "--out", tmp_path / "o.mp4")
    assert r.code != 0 and "need --grid" in r.err and len(r.err.strip().splitlines()) == 1
    r = avr(
        "export", coded["query"], coded["slow"], "--grid", "--audio", "match",
        "--out", tmp_path / "o.mp4",
    )  # fmt: skip
    assert r.code != 0 and "--audio" in r.err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    ("layout", "scale", "size", "query_box", "match_box"),
    [
        # Each clip at its own resolution: 160x120 beside 96x160, on black.
        ("left-right", "original", (256, 160), (0, 20, 160, 120), (160, 0, 96, 160)),
        # Equal heights, those of the taller clip: the query is scaled up to 160 high.
        ("left-right", "equal", (309, 160), (0, 0, 213, 160), (213, 0, 96, 160)),
        # The match below the query, at the query's width.
        ("top-bottom", "query", (160, 387), (0, 0, 160, 120), (0, 120, 160, 267)),
    ],
)
def test_side_by_side_layouts(avr, clips, tmp_path, layout, scale, size, query_box, match_box):
    tmap = tmp_path / "map.json"
    out = tmp_path / f"{layout}-{scale}.mp4"
    r = avr(
        "export", clips["query"], clips["portrait"], "--mode", "side-by-side",
        "--layout", layout, "--scale", scale, "--out", out, "--map", tmap,
        "--backend", "thumb16", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    s = r.json()
    assert (s["width"], s["height"]) == size
    info = probe(out)
    assert (info.width, info.height) == (size[0] + size[0] % 2, size[1] + size[1] % 2)
    with FrameReader(out) as rd, FrameReader(clips["query"]) as qr:
        frame, query = rd.read(5), qr.read(5)
    x, y, w, h = query_box
    # The query panel holds the query frame (scaled to the panel).
    panel = frame[y : y + h, x : x + w].astype(int)
    expected = cv2.resize(query, (w, h), interpolation=cv2.INTER_LINEAR).astype(int)
    assert np.abs(panel - expected).mean() < 12
    mx, my, mw, mh = match_box
    assert frame[my : my + mh, mx : mx + mw].mean() > 5  # the match panel is not black
    if scale == "original":
        assert frame[:15, :160].max() < 40  # black above the shorter query panel


def test_layout_options_need_side_by_side(avr, clips, tmp_path):
    r = avr(
        "export", clips["query"], clips["portrait"], "--layout", "top-bottom",
        "--out", tmp_path / "o.mp4",
    )  # fmt: skip
    assert r.code != 0 and "side-by-side" in r.err
