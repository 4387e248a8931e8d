"""``avr index --engine ray``: the same library as the local engine, from the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video


def _rows(index: Path) -> list[tuple]:
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        return db.execute("SELECT * FROM videos ORDER BY path").fetchall()
    finally:
        db.close()


def _stored(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "features").rglob("*") if p.is_file())


def test_engine_options_are_checked(avr, tmp_path: Path) -> None:
    r = avr("index", tmp_path, "--index", tmp_path / "i", "--address", "127.0.0.1:6379")
    assert r.code == 2 and r.err.strip() == "avr: error: --address and --workers need --engine ray"
    assert not (tmp_path / "i").exists()


@pytest.mark.slow
def test_ray_engine_builds_the_local_engines_library(avr, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    folder = tmp_path / "vidéos"
    folder.mkdir()
    for k in range(4):
        frames = render_frames(k % 2, speed_warp(30 + 6 * k, (1.0,)), (96, 72), ClipStyle(seed=k))
        write_video(folder / f"clip {k}.mp4", frames, 15.0)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300)

    local, ray = tmp_path / "local", tmp_path / "ray"
    r = avr("index", folder, "--index", local, "--encoder", "thumb16", "--json")
    assert r.code == 0, r.err
    r = avr(
        "index",
        folder,
        "--index",
        ray,
        "--encoder",
        "thumb16",
        "--engine",
        "ray",
        "--workers",
        "1",
        "--json",
        timeout=300,
    )
    assert r.code == 0, r.err
    summary = r.json()
    assert (summary["indexed"], summary["failed"]) == (4, 1)
    assert [f["path"] for f in summary["failures"]] == [str(folder / "broken.mp4")]
    assert _rows(ray) == _rows(local)
    assert _stored(ray) == _stored(local)
    query = folder / "clip 0.mp4"
    a = avr("query", query, "--index", local, "--json").json()["results"]
    b = avr("query", query, "--index", ray, "--json").json()["results"]
    assert [(m["path"], m["score"]) for m in a] == [(m["path"], m["score"]) for m in b]
