"""``avr index`` / ``avr status`` / ``avr query`` end to end, and kill -9 while indexing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.library import Library


def _clip(path: Path, action: int, n: int, seed: int, size=(96, 72)) -> None:
    write_video(path, render_frames(action, speed_warp(n, (1.0,)), size, ClipStyle(seed=seed)), 15)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("library ünï")
    for k in range(12):
        _clip(d / f"clip {k:02d} ä.mp4", k % 3, 36 + 4 * k, seed=k)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    return d


def rows(index: Path) -> list[tuple]:
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT * FROM videos ORDER BY path").fetchall()
    finally:
        db.close()


def stored_files(index: Path) -> list[str]:
    return sorted(p.name for p in (index / "features").rglob("*") if p.is_file())


def test_index_status_query(avr, folder: Path, tmp_path: Path) -> None:
    idx = tmp_path / "índex"
    r = avr("index", folder, "--index", idx, "--backend", "thumb16", "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert (s["videos"], s["indexed"], s["failed"], s["pending"]) == (13, 12, 1, 0)
    assert s["failures"][0]["path"].endswith("broken.mp4") and s["failures"][0]["reason"]

    r = avr("status", "--index", idx, "--json")
    assert r.code == 0, r.err
    st = r.json()
    for key in ("videos", "indexed", "failed", "pending"):
        assert isinstance(st[key], int)
    assert (st["videos"], st["indexed"], st["failed"], st["pending"]) == (13, 12, 1, 0)
    assert st["encoder"] == "thumb16"
    assert [f["path"] for f in st["failures"]] == [str(folder.resolve() / "broken.mp4")]

    q = folder / "clip 00 ä.mp4"
    r = avr("query", q, "--index", idx, "--top", "4", "--candidates", "8", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["query"] == str(q.resolve())
    res = out["results"]
    assert [x["rank"] for x in res] == [1, 2, 3, 4]
    assert all(x["path"] != str(q.resolve()) for x in res)
    scores = [x["score"] for x in res]
    # Ranked by the product's score (the whole clips' normalised DTW cost today), DRAQ
    # beside it; the cost shown is the aligned part's, the same where the whole aligns.
    assert scores == sorted(scores)
    whole = [x for x in res if x["mode"] == "full"]
    assert whole and [x["score"] for x in whole] == pytest.approx(
        [x["normalized_cost"] for x in whole]
    )
    for x in res:
        assert {"rank", "path", "draq", "dtw_cost", "similarity", "score"} <= set(x)
        # A thumb16 library compares on its one feature, not on body parts.
        assert x["compared_on"] is None and x["compared_parts"] is None
    # Same action (0, 3, 6, 9 share action 0) outranks the others at the top.
    assert int(Path(res[0]["path"]).stem.split()[1]) % 3 == 0

    r = avr("index", "--index", idx, "--json")  # nothing changed: a stat per file
    assert r.code == 0 and r.json()["unchanged"] == 13 and r.json()["encoded"] == 0


def test_cli_errors(avr, folder: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty index"
    # A folder that is not a library: an error, and nothing is created there.
    r = avr("query", folder / "clip 01 ä.mp4", "--index", empty, "--backend", "thumb16")
    assert r.code == 2 and "not a library" in r.err and not empty.exists()
    r = avr("index", "--index", empty, "--backend", "thumb16")  # a real, empty library
    assert r.code == 0, r.err
    r = avr("query", folder / "clip 01 ä.mp4", "--index", empty, "--backend", "thumb16")
    assert r.code == 2 and "no indexed videos" in r.err
    r = avr("query", tmp_path / "nope.mp4", "--index", empty, "--backend", "thumb16")
    assert r.code == 2 and "avr: error:" in r.err
    r = avr("index", tmp_path / "missing", "--index", empty)
    assert r.code == 2 and "not a folder" in r.err
    r = avr("index", folder, "--index", empty, "--reindex")
    assert r.code == 2 and "--encoder" in r.err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = avr("status", "--index", blocker / "idx")
    assert r.code == 2 and "not a library" in r.err
    r = avr("index", folder, "--index", blocker / "idx")
    assert r.code == 2 and "cannot create" in r.err


def _index_cmd(folder: Path, idx: Path) -> list[str]:
    cli = [sys.executable, "-m", "avr_gui.cli"]
    return [*cli, "index", str(folder), "--index", str(idx), "--backend", "thumb16"]


def test_kill_9_at_20_random_moments(folder: Path, tmp_path: Path) -> None:
    ref = tmp_path / "reference"
    t0 = time.perf_counter()
    subprocess.run(_index_cmd(folder, ref), check=True, timeout=120)
    total = time.perf_counter() - t0
    expected_rows, expected_files = rows(ref), stored_files(ref)
    assert len(expected_rows) == 13

    rng = np.random.default_rng(20)
    kills = interrupted = 0
    for group in range(10):
        idx = tmp_path / f"run{group}"
        for _ in range(2):
            proc = subprocess.Popen(
                _index_cmd(folder, idx), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(float(rng.uniform(0.05, total)))
            if proc.poll() is None:
                interrupted += 1
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            kills += 1
            if not (idx / "catalog.sqlite").exists():
                continue  # killed before the library was created
            rows(idx)  # integrity check
            with Library.open(idx) as lib:  # the library always opens...
                st = lib.status()
                assert st.videos == st.indexed + st.failed + st.pending
                for e in lib.entries():  # ...and what it calls indexed is readable
                    if e.status == "indexed":
                        assert lib.features(e.path).features.shape[0] == e.n_features
        subprocess.run(_index_cmd(folder, idx), check=True, timeout=120)
        assert rows(idx) == expected_rows
        assert stored_files(idx) == expected_files
    assert kills == 20
    assert interrupted >= 10  # most kills must hit a running indexer


def test_an_excerpt_names_the_clip_it_was_cut_from(avr, tmp_path: Path) -> None:
    """A re-saved excerpt of a library clip: ranked first, marked "same footage"."""
    from avr_gui.core.demo.synth_library import generate_library
    from avr_gui.core.video.decode import sample_frames

    clips = generate_library(tmp_path / "lib", per_action=2, distractors=1, seed=31)
    idx = tmp_path / "idx"
    r = avr("index", tmp_path / "lib", "--index", idx, "--backend", "effnet-lite0", "--json")
    assert r.code == 0, r.err
    src = Path(clips[1].path)
    frames = [f.image for f in sample_frames(src, 10.0)]
    q = tmp_path / "excerpt ä.mp4"
    write_video(q, np.stack(frames[len(frames) // 3 : 2 * len(frames) // 3]), 10)
    r = avr("query", q, "--index", idx, "--top", "3", "--json")
    assert r.code == 0, r.err
    res = r.json()["results"]
    assert Path(res[0]["path"]).name == src.name and res[0]["same_footage"] is True
    assert not any(x["same_footage"] for x in res[1:])
    r = avr("query", q, "--index", idx, "--top", "3")
    assert r.code == 0, r.err
    lines = [line for line in r.out.splitlines() if src.name in line]
    assert len(lines) == 1 and "same footage" in lines[0] and lines[0].lstrip().startswith("1 ")


def test_status_reports_the_compact_basis(avr, tmp_path: Path) -> None:
    """A library wide and large enough gets a compact basis; ``avr status`` says so."""
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((30, 640)).astype(np.float32)

    def seq(k: int) -> FeatureSequence:
        walk = np.cumsum(rng.standard_normal((200, 30)), axis=0).astype(np.float32)
        f = np.abs(walk @ mix) + 1.0
        t = np.arange(200) / 10.0
        return FeatureSequence(f, t, np.arange(200), f"c{k}", "effnet-lite0", "effnet-test")

    idx = tmp_path / "idx"
    with Library.open(idx) as lib:
        lib.add_features((f"c{k}", seq(k)) for k in range(6))  # 1,200 frames of 640
    r = avr("status", "--index", idx, "--json")
    assert r.code == 0, r.err
    assert r.json()["compact"] == {"columns": 640, "dimensions": 256, "fitted_frames": 1200}
    r = avr("status", "--index", idx)
    assert "compact  re-ranked on 256 of 640 dimensions (fitted on 1200 frames)" in r.out
    # A small library has none, and says nothing about it.
    small = tmp_path / "small"
    with Library.open(small) as lib:
        lib.add_features([("c0", seq(0))])
    assert avr("status", "--index", small, "--json").json()["compact"] is None
