"""Time map files: CSV and JSON with one row per query frame, read back strictly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.export import (
    FrameMap,
    TimeMapFileError,
    WarpCurve,
    load_map,
    save_map,
)
from avr_gui.core.export.timemap_io import COLUMNS


@pytest.fixture
def fmap() -> FrameMap:
    qt = np.arange(7) / 15.0
    mf = np.array([0, 0, 1, 3, 5, 5, 8])
    return FrameMap(np.arange(7), qt, mf, mf / 25.0)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_round_trip(tmp_path: Path, fmap: FrameMap, suffix: str):
    path = tmp_path / f"kärte map{suffix}"
    save_map(path, fmap, {"query": "q.mp4", "match": "m.mp4"})
    back = load_map(path)
    assert isinstance(back, FrameMap)
    assert back.match_frame.tolist() == fmap.match_frame.tolist()
    np.testing.assert_allclose(back.query_time, fmap.query_time, atol=1e-6)
    np.testing.assert_allclose(back.match_time, fmap.match_time, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_the_documented_layouts(tmp_path: Path, fmap: FrameMap):
    save_map(tmp_path / "m.json", fmap)
    doc = json.loads((tmp_path / "m.json").read_text())
    assert list(doc) == ["frames"]
    assert doc["frames"][3] == {
        "query_frame": 3,
        "query_time": 0.2,
        "match_frame": 3,
        "match_time": 0.12,
    }
    save_map(tmp_path / "m.csv", fmap)
    rows = list(csv.reader((tmp_path / "m.csv").open()))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + len(fmap)
    assert rows[2] == ["1", "0.066667", "0", "0.0"]


def test_avr_align_json_is_read_as_a_curve(tmp_path: Path):
    doc = {
        "draq": 0.3,
        "time_map": [
            {"query_index": 0.0, "query_time": 0.0, "match_index": 0.0, "match_time": 0.0},
            {"query_index": 1.0, "query_time": 0.1, "match_index": 1.5, "match_time": 0.15},
            {"query_index": 2.0, "query_time": 0.2, "match_index": 4.0, "match_time": 0.4},
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    curve = load_map(tmp_path / "a.json")
    assert isinstance(curve, WarpCurve)
    np.testing.assert_allclose(curve(np.array([0.15])), [0.275])


def test_a_failed_save_keeps_the_old_file(tmp_path: Path, fmap: FrameMap):
    path = tmp_path / "m.txt"
    with pytest.raises(TimeMapFileError, match=r"\.json or \.csv"):
        save_map(path, fmap)
    good = tmp_path / "m.json"
    save_map(good, fmap)
    before = good.read_bytes()
    with pytest.raises(OSError):
        save_map(tmp_path / "missing dir" / "m.json", fmap)
    assert good.read_bytes() == before


BAD = {
    "garbage.json": ("{not json", "not valid JSON"),
    "empty.json": ('{"frames": []}', "no rows"),
    "other.json": ('{"rows": []}', "expected"),
    "missing.csv": ("query_frame,query_time,match_frame\n0,0,0\n", "lacks match_time"),
    "text.csv": ("query_frame,query_time,match_frame,match_time\n0,0,x,0\n", "not a number"),
    "frac.csv": ("query_frame,query_time,match_frame,match_time\n0,0,1.5,0\n", "valid int"),
    "gap.csv": (
        "query_frame,query_time,match_frame,match_time\n0,0,0,0\n2,0.1,1,0.1\n",
        "0, 1, 2",
    ),
    "back.csv": (
        "query_frame,query_time,match_frame,match_time\n0,0,3,0.3\n1,0.1,1,0.1\n",
        "never go back",
    ),
    "nan.json": (
        '{"frames": [{"query_frame": 0, "query_time": NaN, "match_frame": 0, "match_time": 0}]}',
        "valid float",
    ),
    "row.json": ('{"frames": [[0, 0, 0, 0]]}', "not a record"),
    "binary.csv": (b"\xff\xfe\x00garbage", "cannot read"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_files_give_clear_errors(tmp_path: Path, name: str):
    content, message = BAD[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(TimeMapFileError, match=message):
        load_map(path)


def test_missing_file_and_wrong_suffix(tmp_path: Path):
    with pytest.raises(TimeMapFileError, match="no such"):
        load_map(tmp_path / "nope.json")
    (tmp_path / "m.txt").write_text("{}")
    with pytest.raises(TimeMapFileError, match=r"\.json or \.csv"):
        load_map(tmp_path / "m.txt")
