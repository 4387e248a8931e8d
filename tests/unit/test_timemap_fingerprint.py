"""Time maps record the fingerprints of the files they were made for, and check them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.export import FrameMap, TimeMapFileError, WarpCurve, load_map, save_map
from avr_gui.core.export.timemap_io import (
    COLUMNS,
    FINGERPRINT_KEYS,
    StoredMap,
    check_map_sources,
    file_fingerprint,
    read_map,
)
from avr_gui.core.library.scan import fingerprint


@pytest.fixture
def fmap() -> FrameMap:
    qt = np.arange(7) / 15.0
    mf = np.array([0, 0, 1, 3, 5, 5, 8])
    return FrameMap(np.arange(7), qt, mf, mf / 25.0)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Stand-ins for video files: only their bytes matter to a fingerprint."""
    rng = np.random.default_rng(0)
    out = {}
    for name, size in (("query", 300_000), ("match", 5_000), ("other", 5_000)):
        path = tmp_path / f"{name} clip ü.mp4"
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        out[name] = path
    return out


def test_the_fingerprint_is_the_catalogs(files: dict[str, Path]) -> None:
    fp = file_fingerprint(files["query"])
    assert fp == fingerprint(files["query"])
    assert fp.startswith("b3:")  # the whole content, not its ends only
    # Same size, other content: another fingerprint.
    assert file_fingerprint(files["match"]) != file_fingerprint(files["other"])
    with pytest.raises(TimeMapFileError, match="cannot read"):
        file_fingerprint(files["query"].parent / "gone.mp4")


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_fingerprints_round_trip(
    tmp_path: Path, fmap: FrameMap, files: dict[str, Path], suffix: str
) -> None:
    path = tmp_path / f"map{suffix}"
    save_map(
        path, fmap, {"query": "q.mp4", "match": "m.mp4"}, sources=(files["query"], files["match"])
    )
    stored = read_map(path)
    assert isinstance(stored.map, FrameMap)
    assert stored.map.match_frame.tolist() == fmap.match_frame.tolist()
    assert stored.query_fingerprint == fingerprint(files["query"])
    assert stored.match_fingerprint == fingerprint(files["match"])
    assert isinstance(load_map(path), FrameMap)  # the old reader's answer is unchanged
    assert check_map_sources(stored, files["query"], files["match"]) is True


def test_the_csv_stays_a_plain_table(tmp_path: Path, fmap: FrameMap, files: dict[str, Path]):
    path = tmp_path / "map.csv"
    save_map(path, fmap, sources=(files["query"], files["match"]))
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(fmap)  # no comment line taken for a row or the header
    assert [int(r["match_frame"]) for r in rows] == fmap.match_frame.tolist()
    header = path.read_text().splitlines()[0].split(",")
    assert tuple(header) == (*COLUMNS, *FINGERPRINT_KEYS)
    assert rows[0]["query_fingerprint"] == fingerprint(files["query"])
    assert all(r["query_fingerprint"] == r["match_fingerprint"] == "" for r in rows[1:])


def test_json_keys(tmp_path: Path, fmap: FrameMap, files: dict[str, Path]) -> None:
    path = tmp_path / "map.json"
    save_map(path, fmap, {"query": "q.mp4"}, sources=(files["query"], files["match"]))
    doc = json.loads(path.read_text())
    assert doc["query"] == "q.mp4"
    assert doc["query_fingerprint"] == fingerprint(files["query"])
    assert doc["match_fingerprint"] == fingerprint(files["match"])


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_map_for_other_files_is_refused_naming_the_file(
    tmp_path: Path, fmap: FrameMap, files: dict[str, Path], suffix: str
) -> None:
    path = tmp_path / f"map{suffix}"
    save_map(path, fmap, sources=(files["query"], files["match"]))
    stored = read_map(path)
    with pytest.raises(TimeMapFileError) as err:
        check_map_sources(stored, files["query"], files["other"], name=path.name)
    message = str(err.value)
    assert message.startswith(f"{path.name}: ") and "\n" not in message
    assert "another match file" in message and files["other"].name in message
    assert files["query"].name not in message
    with pytest.raises(TimeMapFileError, match="another query file") as err:
        check_map_sources(stored, files["other"], files["match"])
    assert files["other"].name in str(err.value)
    with pytest.raises(TimeMapFileError, match="other query and match files"):
        check_map_sources(stored, files["match"], files["query"])  # swapped


def test_a_renamed_copy_is_the_same_file(
    tmp_path: Path, fmap: FrameMap, files: dict[str, Path]
) -> None:
    path = tmp_path / "map.json"
    save_map(path, fmap, sources=(files["query"], files["match"]))
    moved = tmp_path / "elsewhere.mp4"
    moved.write_bytes(files["match"].read_bytes())
    assert check_map_sources(read_map(path), files["query"], moved) is True


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_old_maps_load_but_cannot_be_verified(
    tmp_path: Path, fmap: FrameMap, files: dict[str, Path], suffix: str
) -> None:
    path = tmp_path / f"old{suffix}"
    save_map(path, fmap, {"query": "q.mp4", "match": "m.mp4"})  # no sources: as before
    stored = read_map(path)
    assert (stored.query_fingerprint, stored.match_fingerprint) == (None, None)
    assert check_map_sources(stored, files["query"], files["other"]) is False


def test_one_recorded_fingerprint_is_checked_but_not_enough(
    fmap: FrameMap, files: dict[str, Path]
) -> None:
    stored = StoredMap(fmap, fingerprint(files["query"]), None)
    assert check_map_sources(stored, files["query"], files["match"]) is False
    with pytest.raises(TimeMapFileError, match="another query file"):
        check_map_sources(stored, files["other"], files["match"])


def test_avr_align_output_has_no_fingerprints(tmp_path: Path) -> None:
    doc = {"time_map": [{"query_time": 0.0, "match_time": 0.0}, {"query_time": 1, "match_time": 2}]}
    path = tmp_path / "align.json"
    path.write_text(json.dumps(doc))
    stored = read_map(path)
    assert isinstance(stored.map, WarpCurve)
    assert stored.query_fingerprint is None and stored.match_fingerprint is None


def test_a_malformed_fingerprint_is_an_error(tmp_path: Path, fmap: FrameMap) -> None:
    path = tmp_path / "map.json"
    save_map(path, fmap, {"query_fingerprint": 12, "match_fingerprint": "1-ab"})
    with pytest.raises(TimeMapFileError, match="query_fingerprint"):
        read_map(path)


def test_maps_with_the_older_partial_fingerprints_are_still_checked(
    fmap: FrameMap, files: dict[str, Path]
) -> None:
    from avr_gui.core.library.scan import legacy_fingerprint

    # Maps saved before whole-content fingerprints: checked in their own form.
    old = StoredMap(fmap, legacy_fingerprint(files["query"]), legacy_fingerprint(files["match"]))
    assert not old.query_fingerprint.startswith("b3:")
    assert check_map_sources(old, files["query"], files["match"]) is True
    with pytest.raises(TimeMapFileError, match="another match file"):
        check_map_sources(old, files["query"], files["other"])
