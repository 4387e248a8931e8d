"""``avr export --index``: a library's stored features reused, read only; time maps
that record (and check) the files they were made for."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import true_partner

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.library.scan import fingerprint


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind, and for files size, mtime and content hash."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        st = p.stat()
        if p.is_dir():
            out[str(p.relative_to(root))] = ("dir", st.st_mtime_ns)
        else:
            digest = hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
            out[str(p.relative_to(root))] = ("file", st.st_size, st.st_mtime_ns, digest)
    return out


def _lines(err: str, needle: str) -> list[str]:
    return [line for line in err.splitlines() if needle in line]


@pytest.fixture(scope="module")
def library(clips, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A thumb16 library of copies of the query and the warped clip (and one more)."""
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("export index ü")
    videos = base / "videos"
    videos.mkdir()
    for name in ("query", "warped", "other"):
        shutil.copyfile(clips[name], videos / clips[name].name)
    index = base / "índex"
    proc = subprocess.run(
        [sys.executable, "-m", "avr_gui.cli", "index", videos, "--index", index,
         "--backend", "thumb16", "--json"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["indexed"] == 3
    return {
        "index": index,
        "query": videos / clips["query"].name,
        "warped": videos / clips["warped"].name,
        "other": videos / clips["other"].name,
    }


def test_index_reuses_stored_features_and_writes_nothing_there(avr, library, tmp_path):
    before = _snapshot(library["index"])
    tmap = tmp_path / "map.csv"
    r = avr(
        "export", library["query"], library["warped"], "--out", tmp_path / "o.mp4",
        "--index", library["index"], "--map", tmap, "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert _snapshot(library["index"]) == before  # nothing created, changed or removed
    assert len(_lines(r.err, "query features: reused from the library")) == 1, r.err
    assert len(_lines(r.err, "match features: reused from the library")) == 1, r.err
    assert "encoding" not in r.err, r.err
    summary = r.json()
    assert summary["features"] == {"query": "library", "match": "library"}
    # The library's features align the clips as well as encoding them would.
    rows = list(csv.DictReader(tmap.open()))
    got = np.array([int(row["match_frame"]) for row in rows])
    truth = true_partner(40, (1.0,), 56, (0.5, 2.0, 1.0))
    assert len(got) == 40 and np.median(np.abs(got - truth)) <= 2.0


def test_index_encodes_a_file_it_lacks_or_that_changed(avr, clips, library, tmp_path):
    # A clip outside the library is encoded, with the library's encoder.
    before = _snapshot(library["index"])
    r = avr(
        "export", library["query"], clips["portrait"], "--out", tmp_path / "o.mp4",
        "--index", library["index"], "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert _lines(r.err, "query features: reused from the library"), r.err
    (line,) = _lines(r.err, "match features: encoding with thumb16")
    assert "not in the library" in line and clips["portrait"].name in line
    assert r.json()["features"] == {"query": "library", "match": "encoded"}
    # An indexed file changed since (same name, other content): its stored features
    # are stale, so it is encoded, not reused.
    stale = library["warped"]
    saved = stale.read_bytes()
    try:
        frames = render_frames(0, speed_warp(50, (1.0,)), (160, 120), ClipStyle(seed=11))
        write_video(stale, frames, 15.0)
        r = avr(
            "export", library["query"], stale, "--out", tmp_path / "o2.mp4",
            "--index", library["index"], "--json",
        )  # fmt: skip
    finally:
        stale.write_bytes(saved)
    assert r.code == 0, r.err
    assert _lines(r.err, "match features: encoding with thumb16"), r.err
    assert r.json()["features"] == {"query": "library", "match": "encoded"}
    assert _snapshot(library["index"]) == before


def test_index_with_another_backend_encodes_both(avr, library, tmp_path):
    r = avr(
        "export", library["query"], library["warped"], "--out", tmp_path / "o.mp4",
        "--index", library["index"], "--fps", "5", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert _lines(r.err, "encoding both clips: the library samples at 10 fps"), r.err
    assert r.json()["features"] == {"query": "encoded", "match": "encoded"}


def test_index_that_is_not_a_library_is_refused(avr, clips, tmp_path):
    plain = tmp_path / "plain folder"
    plain.mkdir()
    (plain / "notes.txt").write_text("not a library\n")
    before = _snapshot(plain)
    missing = tmp_path / "no such index"
    for index in (plain, missing, plain / "notes.txt"):
        r = avr(
            "export", clips["query"], clips["warped"], "--out", tmp_path / "o.mp4",
            "--index", index,
        )  # fmt: skip
        assert r.code == 2, r.err
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("avr: error:"), r.err
        assert str(index) in lines[0] and "Traceback" not in r.err
    assert _snapshot(plain) == before  # no catalog, no features/ created
    assert not missing.exists()
    assert not (tmp_path / "o.mp4").exists()


def test_a_map_for_other_files_is_refused_and_one_for_these_accepted(avr, clips, tmp_path):
    tmap = tmp_path / "map.json"
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "first.mp4",
        "--map", tmap, "--backend", "thumb16",
    )  # fmt: skip
    assert r.code == 0, r.err
    doc = json.loads(tmap.read_text())
    # The whole-content BLAKE3 fingerprint, as the library catalog records it.
    assert doc["query_fingerprint"] == fingerprint(clips["query"])
    assert doc["match_fingerprint"] == fingerprint(clips["warped"])
    assert doc["query_fingerprint"].startswith("b3:")

    # Other match (a clip the map's rows would even fit): refused, naming it.
    r = avr("export", clips["query"], clips["other"], "--out", tmp_path / "o.mp4", "--map", tmap)
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avr: error:"), r.err
    assert "another match file" in lines[0] and clips["other"].name in lines[0]
    assert not (tmp_path / "o.mp4").exists()

    # The same files: accepted, verified, no warning about it.
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "o.mp4", "--map", tmap,
        "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.json()["map_reused"] is True and r.json()["map_verified"] is True
    assert "verified" not in r.err and "error" not in r.err, r.err

    # A renamed copy has the same content: accepted too.
    copy = tmp_path / "renamed.mp4"
    shutil.copyfile(clips["warped"], copy)
    r = avr("export", clips["query"], copy, "--out", tmp_path / "o.mp4", "--map", tmap, "--json")
    assert r.code == 0, r.err
    assert r.json()["map_verified"] is True


def test_csv_map_records_the_files_and_refuses_others(avr, clips, tmp_path):
    tmap = tmp_path / "map.csv"
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "first.mp4",
        "--map", tmap, "--backend", "thumb16",
    )  # fmt: skip
    assert r.code == 0, r.err
    header = tmap.read_text().splitlines()[0]
    assert header.endswith(",query_fingerprint,match_fingerprint"), header
    r = avr("export", clips["other"], clips["warped"], "--out", tmp_path / "o.mp4", "--map", tmap)
    assert r.code == 2, r.err
    (line,) = r.err.strip().splitlines()
    assert "another query file" in line and clips["other"].name in line


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_an_old_map_without_fingerprints_warns_once(avr, clips, tmp_path, suffix):
    tmap = tmp_path / f"map{suffix}"
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "first.mp4",
        "--map", tmap, "--backend", "thumb16",
    )  # fmt: skip
    assert r.code == 0, r.err
    old = tmp_path / f"old{suffix}"
    if suffix == ".csv":
        rows = list(csv.DictReader(tmap.open()))
        with old.open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["query_frame", "query_time", "match_frame", "match_time"])
            for row in rows:
                w.writerow([row["query_frame"], row["query_time"], row["match_frame"],
                            row["match_time"]])  # fmt: skip
    else:
        doc = json.loads(tmap.read_text())
        del doc["query_fingerprint"], doc["match_fingerprint"]
        old.write_text(json.dumps(doc))
    r = avr(
        "export", clips["query"], clips["warped"], "--out", tmp_path / "o.mp4", "--map", old,
        "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    (line,) = _lines(r.err, "cannot be verified")
    assert line.startswith("avr: warning:") and old.name in line
    assert r.json()["map_reused"] is True and r.json()["map_verified"] is False
