"""``avr export`` end to end on generated videos: real alignment, real encoding."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from conftest import true_partner

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, speed_warp, write_video_av
from avr_gui.core.video import FrameReader, probe


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips whose frames carry their own number (H.264, 15 and 25 fps)."""
    d = tmp_path_factory.mktemp("coded clips ü")
    q = render_frames(0, speed_warp(30, (1.0,)), (160, 120), ClipStyle(seed=1), code=True)
    m = render_frames(0, speed_warp(45, (0.5, 2.0)), (160, 120), ClipStyle(seed=2), code=True)
    out = {"query": d / "query ü.mp4", "match": d / "match.mp4"}
    write_video_av(out["query"], q, 15.0)
    write_video_av(out["match"], m, 25.0)
    return out


def _codes(path: Path) -> list[int]:
    with FrameReader(path) as r:
        return [read_code(r.read(i)) for i in range(len(r))]


def test_export_aligns_and_writes_video_map_and_timeline(avr, coded, tmp_path):
    out, tmap, tl = tmp_path / "retimed.mp4", tmp_path / "map.json", tmp_path / "t.otio"
    r = avr(
        "export", coded["query"], coded["match"], "--out", out, "--map", tmap,
        "--timeline", tl, "--backend", "thumb16", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    summary = r.json()
    assert summary["map_reused"] is False and summary["draq"] > 0
    rows = json.loads(tmap.read_text())["frames"]
    assert [row["query_frame"] for row in rows] == list(range(30))
    assert _codes(out) == [row["match_frame"] for row in rows]
    info = probe(out, count_frames=True)
    assert (info.frame_count, info.fps, info.codec) == (30, 15.0, "h264")
    assert info.duration_s == pytest.approx(probe(coded["query"]).duration_s, abs=1e-3)
    timeline = otio.adapters.read_from_file(str(tl))
    assert len(timeline.tracks) == 3
    assert all(t.duration().to_frames() == 30 for t in timeline.tracks)


def test_alignment_is_right_on_uncoded_clips(avr, clips, tmp_path):
    tmap = tmp_path / "map.csv"
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "o.mp4",
        "--map", tmap, "--backend", "thumb16", "--mode", "side-by-side",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "written to" in r.out
    rows = list(csv.DictReader(tmap.open()))
    assert len(rows) == 40
    got = np.array([int(row["match_frame"]) for row in rows])
    truth = true_partner(40, (1.0,), 56, (0.5, 2.0, 1.0))
    assert np.median(np.abs(got - truth)) <= 2.0


def test_a_stored_map_is_reused_frame_for_frame(avr, coded, tmp_path):
    tmap = tmp_path / "hand made.csv"
    chosen = [min(44, (k // 3) * 4) for k in range(30)]  # holds and jumps no DTW would give
    with tmap.open("w") as fh:
        fh.write("query_frame,query_time,match_frame,match_time\n")
        for k, m in enumerate(chosen):
            fh.write(f"{k},{k / 15:.6f},{m},{m / 25:.6f}\n")
    out = tmp_path / "o.mov"
    r = avr("export", coded["query"], coded["match"], "--out", out, "--map", tmap, "--json")
    assert r.code == 0, r.err
    assert r.json()["map_reused"] is True and r.json()["draq"] is None
    assert _codes(out) == chosen
    rev = tmp_path / "rev.mp4"
    r = avr("export", coded["query"], coded["match"], "--out", rev, "--map", tmap,
            "--mode", "reverse", "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert probe(rev, count_frames=True).frame_count == 45


def test_avr_align_output_can_be_the_map(avr, coded, tmp_path):
    a = avr("align", coded["query"], coded["match"], "--json", "--backend", "thumb16")
    assert a.code == 0, a.err
    stored = tmp_path / "align.json"
    stored.write_text(a.out)
    r = avr("export", coded["query"], coded["match"], "--out", tmp_path / "o.mp4",
            "--map", stored, "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert r.json()["frames"] == 30


def test_user_errors_exit_2_with_a_message(avr, coded, clips, tmp_path):
    data = coded["match"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 4])
    stale = tmp_path / "stale.csv"
    stale.write_text("query_frame,query_time,match_frame,match_time\n0,0,0,0\n1,0.1,1,0.1\n")
    cases = [
        ((coded["query"], cut, "--out", tmp_path / "o.mp4"), "moov"),
        ((coded["query"], coded["match"], "--out", tmp_path / "nope" / "o.mp4"), "does not"),
        ((coded["query"], coded["match"], "--out", tmp_path / "o.gif"), "must be a"),
        ((coded["query"], coded["match"], "--out", tmp_path / "o.mp4", "--map", stale), "rows"),
        ((coded["query"], coded["match"], "--out", tmp_path / "o.mp4", "--map", "m.txt"), ".csv"),
    ]
    for args, message in cases:
        r = avr("export", *args)
        assert r.code == 2, (args, r.err)
        assert r.err.startswith("avr: error:") and message in r.err, r.err
    assert not (tmp_path / "o.mp4").exists()
