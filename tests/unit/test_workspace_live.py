"""Library snapshots taken while indexing runs (the panel follows the run), without Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avr_gui.core.config import load_config
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.jobs import CancelToken, no_progress
from avr_gui.core.workspace import Workspace
from avr_gui.core.workspace.jobs import LiveSnapshots

pytest.importorskip("avr_gui.core.library")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four tiny generated clips and an empty (failing) file."""
    d = tmp_path_factory.mktemp("live clips")
    for k in range(4):
        frames = render_frames(k % 3, speed_warp(20, (1.0,)), (48, 36), ClipStyle(seed=k))
        write_video(d / f"clip{k}.mp4", frames, 15.0)
    (d / "empty.mp4").write_bytes(b"")
    return d


@pytest.fixture
def ws(tmp_path: Path, folder: Path):
    config = load_config(user_file=Path(os.devnull), environ={}, overrides={})
    w = Workspace(str(tmp_path / "index"), "thumb16", config=config)
    w.library_opened(w.open_job()(no_progress, None))
    w.set_snapshot(w.add_folder_job(str(folder))(no_progress, None))
    assert w.snapshot is not None and w.snapshot.status.videos == 0  # not scanned yet
    yield w
    w.close()


def test_the_index_job_reports_the_library_as_files_are_done(ws):
    snaps = []
    reports = []
    job = ws.index_job(snaps.append)
    summary, final = job(lambda d, t, m: reports.append((d, t)), None)
    # Passed on: the caller's progress still sees every report.
    assert reports and reports[-1] == (5, 5)
    # The first snapshot comes once the scan has listed the videos: all five are known,
    # none indexed yet. Later ones (at most every LIVE_SNAPSHOT_S) show the count grow.
    assert snaps, "no snapshot while indexing"
    first = snaps[0]
    assert first.status.videos == 5 and first.status.indexed == 0 and first.status.pending == 5
    assert sorted(Path(e.path).name for e in first.entries) == sorted(
        ["clip0.mp4", "clip1.mp4", "clip2.mp4", "clip3.mp4", "empty.mp4"]
    )
    done = [s.status.indexed + s.status.failed for s in snaps]
    assert done == sorted(done)
    assert final.status.indexed == summary.indexed == 4 and final.status.failed == 1


def test_every_finished_file_gives_a_snapshot_without_a_minimum_interval(ws):
    snaps = []
    lib = ws.library
    from avr_gui.core.workspace import jobs

    jobs.index_job(lib, snaps.append, min_interval_s=0.0)(no_progress, None)
    # One when the videos are listed, then one per file done (the last report: all 5).
    counts = [s.status.indexed + s.status.failed for s in snaps]
    assert counts == [0, 1, 2, 3, 4, 5]


def test_snapshots_are_throttled_and_never_during_the_scan(ws):
    calls = []
    now = [0.0]
    live = LiveSnapshots(
        ws.library, no_progress, calls.append, min_interval_s=1.0, clock=lambda: now[0]
    )
    live(0, 0, "checking a file")  # scanning: the total is not known yet
    assert calls == []
    live(0, 5, "clip0")  # the videos are listed: the first snapshot
    assert len(calls) == 1
    now[0] = 0.5
    live(1, 5, "clip1")  # too soon
    assert len(calls) == 1
    now[0] = 1.2
    live(1, 5, "clip1 again")  # a file finished since the last snapshot, time is up
    assert len(calls) == 2
    now[0] = 3.0
    live(1, 5, "clip1 once more")  # nothing finished since
    assert len(calls) == 2
    live(2, 5, "clip2")
    assert len(calls) == 3 and live.taken == 3


def test_a_cancelled_run_keeps_what_it_reported(ws):
    snaps = []
    token = CancelToken()

    def progress(done, total, message):
        if done >= 2:
            token.cancel()

    from avr_gui.core.jobs import Cancelled

    with pytest.raises(Cancelled):
        ws.index_job(snaps.append)(progress, token)
    assert snaps and snaps[0].status.videos == 5
