"""Damaged array files and unwritable outputs: one line on stderr and exit 2, no traceback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import render_frames, write_video_av

GOOD = np.cumsum(np.random.default_rng(3).standard_normal((40, 8)), axis=0).astype(np.float32)


def _npy(arr: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _huge_header() -> bytes:
    """A valid .npy header declaring (10**12, 1280) float32: 5 PB the file does not hold."""
    buf = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**12, 1280)}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + b"\0" * 256


def _object_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, features=np.array([{"x": 1}, None], dtype=object))
    return buf.getvalue()


def _zip_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


# name -> bytes of a damaged or hostile file, crafted from a real one.
BAD_FILES = {
    "header-garbled.npy": _npy(GOOD).replace(b"'descr'", b"'d#scr'", 1),
    "header-dtype.npy": _npy(GOOD).replace(b"<f4", b"<z7", 1),
    "magic-broken.npy": b"\x93NUMPX" + _npy(GOOD)[6:],
    "claims-terabytes.npy": _huge_header(),
    "truncated.npy": _npy(GOOD)[:-100],
    "header-only.npy": _npy(GOOD)[:40],
    "zero-bytes.npy": b"",
    "objects.npy": _npy(np.array([{"x": 1}], dtype=object), allow_pickle=True),
    "objects.npz": _object_npz(),
    "not-a-zip.npz": b"PK but not really a zip archive" * 10,
    "plain-npy-named.npz": _npy(GOOD),
    "zero-bytes.npz": b"",
    "truncated.npz": _zip_of("features.npy", _npy(GOOD))[:-60],
    "member-claims-terabytes.npz": _zip_of("features.npy", _huge_header()),
    "member-truncated.npz": _zip_of("features.npy", _npy(GOOD)[:-100]),
}


def assert_one_line_error(r, *fragments: str) -> str:
    assert r.code == 2, (r.code, r.err)
    assert "Traceback" not in r.err
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("avr: error: ")
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


@pytest.fixture
def good(tmp_path: Path) -> dict[str, Path]:
    npy, npz = tmp_path / "good.npy", tmp_path / "good.npz"
    np.save(npy, GOOD)
    np.savez(npz, features=GOOD, timestamps=np.arange(40) / 10.0)
    return {"npy": npy, "npz": npz}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_align_refuses_a_bad_array_file_in_one_line(avr, good, tmp_path, name):
    bad = tmp_path / name
    bad.write_bytes(BAD_FILES[name])
    assert_one_line_error(avr("align", bad, good["npy"]), name)
    assert_one_line_error(avr("align", good["npz"], bad, "--json"), name)


def test_valid_arrays_still_align(avr, good):
    r = avr("align", good["npy"], good["npz"], "--json")
    assert r.code == 0, r.err
    assert r.err == ""
    assert r.json()["path"][-1] == [39, 39]


def test_eval_refuses_bad_joint_files(avr, tmp_path):
    bad = tmp_path / "objects.npz"
    bad.write_bytes(_object_npz())
    huge = tmp_path / "huge.npz"
    huge.write_bytes(_zip_of("x.npy", _huge_header()))
    assert_one_line_error(avr("eval", "e2", "--library", bad, "--queries", bad), "objects.npz")
    assert_one_line_error(avr("eval", "e2", "--library", huge, "--queries", huge), "huge.npz")


def test_features_into_a_missing_folder_fails_first_and_leaves_nothing(avr, clips, tmp_path):
    folder = tmp_path / "missing folder"
    r = avr("features", clips["query"], "-o", folder / "out.npz", "--backend", "thumb16")
    line = assert_one_line_error(r, str(folder), "no such folder")
    assert ".npz." not in line and "tmp" not in line.replace(str(tmp_path), "")
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_features_onto_a_folder_fails(avr, clips, tmp_path):
    r = avr("features", clips["query"], "-o", tmp_path, "--backend", "thumb16")
    assert_one_line_error(r, "is a folder")


def test_export_map_into_a_missing_folder_names_the_folder(avr, clips, tmp_path):
    folder = tmp_path / "no maps here"
    r = avr(
        "export",
        clips["query"],
        clips["warped"],
        "--out",
        tmp_path / "out.mp4",
        "--map",
        folder / "map.json",
        "--backend",
        "thumb16",
    )
    assert r.code == 2, r.err
    assert "Traceback" not in r.err
    last = r.err.splitlines()[-1]
    assert last == f"avr: error: {folder}: no such folder"


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Matroska clip cut in half: the first frames decode, then the file ends."""
    d = tmp_path_factory.mktemp("damaged")
    full = d / "full.mkv"
    write_video_av(full, render_frames(0, np.linspace(0.0, 1.0, 60), (160, 96)), 30.0, gop=10)
    data = full.read_bytes()
    cut = d / "cut in half.mkv"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_decode_warning_is_one_note_line(avr, cut_video, tmp_path):
    out = tmp_path / "cut.npz"
    r = avr("features", cut_video, "-o", out, "--backend", "thumb16", "--fps", "30")
    assert r.code == 0, r.err
    assert out.exists()
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("avr: note: ") and "truncated" in lines[0]
    assert cut_video.name in lines[0]
    assert "Warning" not in r.err and ".py:" not in r.err


def test_decode_warning_in_align_is_one_note_line(avr, cut_video, clips):
    r = avr("align", cut_video, clips["query"], "--backend", "thumb16", "--json")
    assert r.code == 0, r.err
    notes = [ln for ln in r.err.splitlines() if ln]
    assert len(notes) == 1 and notes[0].startswith("avr: note: "), r.err
    assert "Warning" not in r.err
