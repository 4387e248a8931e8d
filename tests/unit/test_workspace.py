"""The workspace model on a real generated library, without Qt.

Every job the model hands out is run here directly (``job(progress, cancel)``), as the
window's worker would run it; no part of the core is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.config import load_config
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import no_progress
from avr_gui.core.workspace import (
    AnchorError,
    LibrarySnapshot,
    NotReady,
    Thresholds,
    Workspace,
    open_library,
    settings_or_defaults,
)
from avr_gui.core.workspace.labels import badge_for, match_title

pytest.importorskip("avr_gui.core.library")

FPS = 15.0


def _config(**overrides: object):
    """Shipped defaults plus ``overrides`` (no user file, no environment)."""
    return load_config(user_file=Path(os.devnull), environ={}, overrides=overrides)


def _clip(path: Path, action: int, speeds=(1.0,), n: int = 30, seed: int = 1) -> Path:
    style = ClipStyle(seed=seed, figure_bgr=(40 + 30 * seed % 200, 200, 255 - 20 * seed % 200))
    write_video(path, render_frames(action, speed_warp(n, speeds), (64, 48), style), FPS)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two takes of one action re-timed, plus clips of two other actions."""
    d = tmp_path_factory.mktemp("workspace clips ü")
    _clip(d / "q.mp4", 0, seed=1)
    _clip(d / "same slow.mp4", 0, (0.5, 2.0), n=40, seed=2)
    _clip(d / "same fast.mp4", 0, (2.0, 1.0), n=26, seed=3)
    for k in range(3):
        _clip(d / f"other{k}.mp4", 1 + k % 2, n=28 + 3 * k, seed=4 + k)
    return d


def _run(job):
    return job(no_progress, None)


def _open(ws: Workspace):
    """Open the workspace's library as the window does: the job, then the hand-over."""
    return ws.library_opened(_run(ws.open_job()))


@pytest.fixture
def ws(tmp_path: Path, videos: Path):
    """A workspace on a new thumb16 library of :func:`videos`, indexed."""
    w = Workspace(str(tmp_path / "index"), "thumb16", config=_config())
    _open(w)
    w.set_snapshot(_run(w.add_folder_job(str(videos))))
    summary, snap = _run(w.index_job())
    w.set_snapshot(snap)
    assert summary.indexed == 6
    yield w
    w.close()


class Events(list):
    """A listener that records the events in order."""

    def __call__(self, event: str) -> None:
        self.append(event)


def _query(ws: Workspace, path: Path, trim=None):
    ws.set_query(str(path))
    ws.set_trim(trim)
    assert ws.query_done(_run(ws.query_job(str(path), trim)))


def test_the_model_never_imports_qt(tmp_path: Path, videos: Path):
    code = f"""
import sys
from avr_gui.core.jobs import no_progress
from avr_gui.core.workspace import Workspace
ws = Workspace({str(tmp_path / "ix")!r}, "thumb16")
ws.library_opened(ws.open_job()(no_progress, None))
ws.set_snapshot(ws.add_folder_job({str(videos)!r})(no_progress, None))
ws.set_snapshot(ws.index_job()(no_progress, None)[1])
ws.set_query({str(videos / "q.mp4")!r})
ws.query_done(ws.query_job({str(videos / "q.mp4")!r})(no_progress, None))
ws.select(ws.matches[0])
ws.close()
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))
assert not bad, bad
print("ok", len(ws.matches))
"""
    env = dict(os.environ, AVR_CONFIG=str(tmp_path / "none.toml"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")


def test_opening_indexing_and_the_snapshot(tmp_path: Path, videos: Path):
    ws = Workspace(str(tmp_path / "new index"), "thumb16", config=_config())
    events = Events()
    ws.subscribe(events)
    with pytest.raises(NotReady, match="still opening"):
        ws.index_job()
    notes = _open(ws)
    assert ws.library is not None and ws.encoder_name == "thumb16"
    assert not [n for n in notes if n.key == "encoder"]
    assert events[:2] == [Workspace.LIBRARY, Workspace.SNAPSHOT]
    assert ws.empty and ws.entries == [] and ws.at_home and not ws.readonly
    snap = _run(ws.add_folder_job(str(videos)))
    assert isinstance(snap, LibrarySnapshot) and snap.folders == [str(videos)]
    ws.set_snapshot(snap)
    summary, snap = _run(ws.index_job())
    ws.set_snapshot(snap)
    assert summary.indexed == 6 and len(ws.entries) == 6 and not ws.empty
    q = str(videos / "q.mp4")
    assert ws.known_duration(q) == pytest.approx(30 / FPS, abs=0.1)
    assert ws.known_duration(str(tmp_path / "elsewhere.mp4")) is None
    ws.set_snapshot(_run(ws.remove_folder_job(str(videos))))
    assert ws.snapshot is not None and ws.snapshot.folders == []
    ws.close()
    assert ws.library is None


def test_a_query_its_matches_and_selecting_one(ws: Workspace, videos: Path):
    events = Events()
    ws.subscribe(events)
    q = videos / "q.mp4"
    _query(ws, q)
    assert Workspace.QUERY in events and events[-2:] == [Workspace.RESULTS, Workspace.MATCH]
    names = [Path(m.path).name for m in ws.matches]
    assert len(names) == 5 and "q.mp4" not in names  # the query is never a result
    assert set(names[:2]) == {"same slow.mp4", "same fast.mp4"}
    assert ws.match is None and ws.path is None and not ws.stale
    best = ws.matches[0]
    events.clear()
    ws.select(best)
    assert events == [Workspace.MATCH]
    assert ws.match is best and ws.match_pose is None  # thumb16: no skeletons
    np.testing.assert_array_equal(ws.path, best.alignment.path)
    assert ws.query_times.shape == (len(ws.result.query.timestamps),)
    assert ws.match_times.shape == (len(best.features.timestamps),)
    assert ws.played_query == str(q)
    ws.select(best)  # the same again changes nothing
    assert events == [Workspace.MATCH]
    with pytest.raises(InputError):
        ws.select(object())
    ws.select(None)
    assert ws.match is None and ws.path is None


def test_a_new_query_clears_the_matches_and_a_new_trim_marks_them_stale(
    ws: Workspace, videos: Path
):
    q = str(videos / "q.mp4")
    _query(ws, q)
    ws.select(ws.matches[0])
    events = Events()
    ws.subscribe(events)
    ws.set_query(q)  # the same file again: nothing changes
    assert events == [] and ws.matches and ws.match is not None
    ws.set_trim((0.5, 1.5))
    assert ws.stale and ws.matches and events == [Workspace.QUERY]
    ws.set_trim(None)
    assert not ws.stale
    ws.set_query(str(videos / "other0.mp4"))
    assert ws.result is None and ws.matches == [] and ws.match is None
    assert ws.query_duration == 0 and ws.trim is None
    assert events[-3:] == [Workspace.RESULTS, Workspace.MATCH, Workspace.QUERY]
    # The length of a file arrives later; a length for another file is dropped.
    assert not ws.set_duration(q, 2.0)
    assert ws.set_duration(str(videos / "other0.mp4"), 2.0) and ws.query_duration == 2.0
    assert _run(ws.duration_job(q)) == pytest.approx(2.0, abs=0.1)
    # Matches of a query that is no longer the query are dropped when they arrive.
    late = _run(ws.query_job(q))
    assert not ws.query_done(late) and ws.result is None


def test_a_trimmed_query_searches_the_trim(ws: Workspace, videos: Path):
    _query(ws, videos / "q.mp4", (0.5, 1.5))
    ts = ws.result.query.timestamps
    assert ts[0] >= 0.5 - 1e-9 and ts[-1] <= 1.5 + 1e-9 and not ws.stale
    with pytest.raises(NotReady, match="out point"):
        ws.query_job(str(videos / "q.mp4"), (1.5, 0.5))


def test_settings_set_the_number_of_matches_and_the_verdict_words(tmp_path, videos):
    ws = Workspace(
        str(tmp_path / "ix"),
        "thumb16",
        config=_config(**{"query.top": 2, "verdict.alignable": 0.9, "verdict.unlikely": 0.6}),
    )
    _open(ws)
    ws.set_snapshot(_run(ws.add_folder_job(str(videos))))
    _run(ws.index_job())
    _query(ws, videos / "q.mp4")
    assert len(ws.matches) == 2 and ws.top == 2 and ws.candidates == 50
    t = ws.thresholds
    assert (t.alignable, t.unlikely) == (0.9, 0.6)
    assert t.label(0.7) == "possible" and Thresholds().label(0.7) == "alignable"
    assert badge_for(0.95, 0.3, t) == ("alignable 95%", "alignable")
    assert badge_for(0.5, 0.3, t) == ("unlikely 50%", "unlikely")
    assert "DRAQ" in match_title(ws.matches[0], t)  # thumb16: no calibrated verdict
    ws.close()


def test_unreadable_settings_fall_back_to_the_shipped_defaults(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[query]\ntop = 0\n")
    config, error = settings_or_defaults(user_file=bad, environ={})
    assert error is not None and "query.top" in str(error)
    assert config["query.top"] == 10 and config.source("query.top") == "default"
    config, error = settings_or_defaults(user_file=tmp_path / "missing.toml", environ={})
    assert error is None and config["features.encoder"] == "auto"


def test_pins_force_the_path_and_a_crossing_pin_is_refused(ws: Workspace, videos: Path):
    with pytest.raises(NotReady):
        ws.pin(1, 1)
    _query(ws, videos / "q.mp4")
    best = ws.matches[0]
    ws.select(best)
    events = Events()
    ws.subscribe(events)
    n, m = best.alignment.cost.shape
    off = (2, m - 3)  # far off the near-diagonal optimum
    anchored = ws.pin(*off)
    assert events == [Workspace.PATH] and ws.anchors == (off,)
    assert any((ws.path == off).all(axis=1))
    assert (
        anchored.dtw_cost >= float(best.alignment.cost[tuple(best.alignment.path.T)].sum()) - 1e-3
    )
    with pytest.raises(AnchorError, match="cross"):
        ws.pin(n - 2, 1)
    assert ws.anchors == (off,)  # unchanged
    ws.clear_pins()
    assert ws.anchors == () and events[-1] == Workspace.PATH
    np.testing.assert_array_equal(ws.path, best.alignment.path)
    # Selecting a match starts from its own optimal path, without pins.
    ws.pin(*off)
    ws.select(ws.matches[1])
    assert ws.anchors == ()
    np.testing.assert_array_equal(ws.path, ws.matches[1].alignment.path)


def test_exports_write_the_selected_pair(ws: Workspace, videos: Path, tmp_path: Path):
    with pytest.raises(NotReady):
        ws.export_job("map", str(tmp_path / "x.json"))
    _query(ws, videos / "q.mp4")
    assert not ws.can_export
    ws.select(ws.matches[0])
    if ws.export_reason is not None:
        pytest.skip(ws.export_reason)
    assert ws.can_export
    # The query is in the library: exports are offered the user's videos folder, not
    # the library's (where the next indexing would pick them up as clips).
    name = Path(ws.default_export_path("map", videos_dir=str(tmp_path / "Videos")))
    assert name.parent == tmp_path / "Videos" / "AVR exports"
    assert name.name == f"{Path(ws.match.path).stem}_map.json"
    assert ws.default_export_path("retimed").endswith("_retimed.mp4")
    assert ws.skeleton_reason()  # thumb16 tracks no person
    out = tmp_path / "map ü.json"
    assert _run(ws.export_job("map", str(out))) == str(out)
    assert json.loads(out.read_text())
    # The export follows the pinned path, not the optimal one.
    m = ws.match.alignment.cost.shape[1]
    ws.pin(2, m - 3)
    out2 = tmp_path / "pinned.json"
    _run(ws.export_job("map", str(out2)))
    assert out2.read_text() != out.read_text()


def test_encoder_fallback_and_the_new_library_setting(tmp_path: Path, videos: Path):
    # An encoder that cannot be loaded does not stop the library: a notice says which.
    opened = open_library(str(tmp_path / "a"), "no-such-encoder", None)
    try:
        encoder = [n for n in opened.notices if n.key == "encoder"]
        assert encoder and "could not be loaded" in encoder[0].text
        assert "Using" in encoder[0].text and opened.library.encoder_name is None
    finally:
        opened.library.close()
    # Without --backend, a new library takes the features.encoder setting.
    ws = Workspace(str(tmp_path / "b"), config=_config(**{"features.encoder": "thumb16"}))
    notes = _open(ws)
    assert ws.library.encoder_name == "thumb16" and not [n for n in notes if n.key == "encoder"]
    ws.set_snapshot(_run(ws.add_folder_job(str(videos))))
    _run(ws.index_job())
    ws.close()
    # An indexed library keeps its encoder, silently, when only the setting for new
    # libraries names another (asked for on the command line, a notice says so:
    # tests/gui/test_pose_library.py).
    opened = open_library(str(tmp_path / "b"), None, None, new_encoder="effnet-lite0")
    try:
        assert opened.library.encoder_name == "thumb16"
        assert not [n for n in opened.notices if n.key == "encoder"]
    finally:
        opened.library.close()


def test_failures_are_kept_as_one_line(tmp_path: Path):
    target = tmp_path / "a file"
    target.write_text("x")
    ws = Workspace(str(target), "thumb16", config=_config())
    events = Events()
    ws.subscribe(events)
    with pytest.raises(Exception) as info:
        _run(ws.open_job())
    line = ws.library_failed(info.value)
    assert "could not be opened" in line and "not a folder" in line and ws.empty
    assert ws.job_failed("Opening library", info.value).startswith("Opening library: ")
    assert ws.job_failed("Thumbnails", ValueError("boom")) == (
        "Thumbnails: unexpected error: ValueError: boom"
    )
    assert events == [Workspace.LIBRARY, Workspace.ERROR, Workspace.ERROR]


def test_switching_libraries_forgets_the_query(ws: Workspace, videos: Path, tmp_path: Path):
    _query(ws, videos / "q.mp4")
    old = ws.switch_library(str(tmp_path / "other"))
    assert old is not None and ws.library is None and ws.query_path is None
    assert ws.result is None and not ws.at_home and ws.home[0] != ws.index_dir
    old.close()
    _open(ws)
    assert ws.library is not None
