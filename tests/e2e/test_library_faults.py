"""Fault injection on the library: a full disk and readers racing a writer.

Each case asserts that nothing is lost (the catalog passes SQLite's integrity check and
what it calls indexed is readable) and that the next run recovers to the catalog an
undisturbed run writes. Kills during indexing are in ``test_cli_library.py``; kills and
full disks during export in ``tests/unit/test_export_faults.py``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.library import Library

pytestmark = pytest.mark.slow

_CLI = [sys.executable, "-m", "avr_gui.cli"]


def _clip(path: Path, action: int, n: int, seed: int) -> None:
    frames = render_frames(action, speed_warp(n, (1.0,)), (96, 72), ClipStyle(seed=seed))
    write_video(path, frames, 15)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fault videos")
    for k in range(10):
        _clip(d / f"clip {k:02d}.mp4", k % 3, 40 + 4 * k, seed=k)
    return d


def _rows(index: Path) -> list[tuple]:
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT * FROM videos ORDER BY path").fetchall()
    finally:
        db.close()


def _assert_readable(index: Path) -> None:
    """What the catalog calls indexed can be read back (nothing half-written is served)."""
    with Library.open(index, readonly=True) as lib:
        for e in lib.entries():
            if e.status == "indexed":
                assert lib.features(e.path).features.shape[0] == e.n_features


def _index(folder: Path, idx: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [*_CLI, "index", str(folder), "--index", str(idx), "--backend", "thumb16", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _fill(path: Path, leave: int) -> None:
    """Write a filler file that leaves about ``leave`` bytes free beside it."""
    free = shutil.disk_usage(path.parent).free
    with open(path, "wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))


@pytest.mark.parametrize("leave_kb", [0, 24, 160])
def test_disk_full_while_indexing_loses_nothing_and_recovers(
    folder: Path, tmp_path: Path, leave_kb: int, mount_tmpfs
) -> None:
    ref = tmp_path / "reference"
    assert _index(folder, ref).returncode == 0
    expected = _rows(ref)

    fs = mount_tmpfs("4m")
    idx = fs / "idx"
    if leave_kb:
        # A library already started, then the disk fills up part-way through.
        r = _index(folder, idx)
        assert r.returncode == 0, r.stderr
        shutil.rmtree(idx)
    filler = fs / "filler"
    _fill(filler, leave_kb * 1024)
    r = _index(folder, idx)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "disk full" in err[0], r.stderr
    assert "Traceback" not in r.stderr and "move it away" not in r.stderr
    if (idx / "catalog.sqlite").exists():
        _rows(idx)  # intact
        _assert_readable(idx)
        with Library.open(idx, readonly=True) as lib:
            # The full disk is not the videos' fault: none is marked failed for it.
            assert lib.status().failed == 0
    filler.unlink()
    r = _index(folder, idx)
    assert r.returncode == 0, r.stderr
    assert _rows(idx) == expected
    _assert_readable(idx)


def test_readers_while_a_writer_indexes(folder: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    # Create the (empty) library first so readers have something to open.
    assert (
        subprocess.run(
            [*_CLI, "index", "--index", str(idx), "--backend", "thumb16"], capture_output=True
        ).returncode
        == 0
    )
    writer = subprocess.Popen(
        [*_CLI, "index", str(folder), "--index", str(idx), "--backend", "thumb16"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    query = folder / "clip 00.mp4"
    reads = seen_indexed = 0
    second_tried = False
    try:
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            with Library.open(idx, readonly=True) as lib:
                st = lib.status()
                assert st.videos == st.indexed + st.failed + st.pending
                seen_indexed = max(seen_indexed, st.indexed)
                for e in lib.entries():
                    if e.status == "indexed":
                        assert lib.features(e.path).features.shape[0] == e.n_features
                if st.indexed >= 2:
                    res = lib.query(query, top=3, candidates=5)
                    assert all(m.path != str(query) for m in res.results)
            reads += 1
            # A second writer is refused while the first runs (one line, exit 2); tried
            # once the first holds the library (its scan has listed the videos).
            if st.videos and not second_tried:
                second_tried = True
                r = _index(folder, idx)
                assert r.returncode in (0, 2), r.stderr
                if r.returncode == 2:
                    assert "another process" in r.stderr
    finally:
        _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert reads >= 2
    with Library.open(idx, readonly=True) as lib:
        assert lib.status().indexed == 10
    _assert_readable(idx)


def test_a_truncated_video_is_damaged_everywhere_and_used_to_the_damage(tmp_path: Path) -> None:
    """Finding 8 end to end: index, status, query and export of an MP4 cut at 40 %."""
    import json

    import numpy as np

    from avr_gui.core.demo.synth import write_video_av

    d = tmp_path / "videos"
    d.mkdir()
    frames = render_frames(0, np.linspace(0, 1, 100), (160, 120), ClipStyle(seed=3), code=True)
    whole = d / "whole.mp4"
    write_video_av(whole, frames, 10.0, container_options={"movflags": "faststart"})
    data = whole.read_bytes()
    cut = d / "cut.mp4"
    cut.write_bytes(data[: len(data) * 40 // 100])
    _clip(d / "other.mp4", 1, 50, seed=9)
    idx = tmp_path / "idx"
    r = _index(d, idx)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "Warning:" not in r.stderr
    st = subprocess.run(
        [*_CLI, "status", "--index", str(idx), "--json"], capture_output=True, text=True
    )
    status = json.loads(st.stdout)
    assert status["indexed"] == 3 and status["failed"] == 0
    (dmg,) = status["damaged"]
    assert dmg["path"] == str(cut.resolve()) and 0 < dmg["readable_s"] < 0.5 * dmg["duration_s"]
    # The library and the player say the same (one rule, the video layer's): the
    # library's end is its last sampled frame's, within a sampling step of the player's.
    from avr_gui.core.video import readable_duration

    assert readable_duration(cut).damaged
    assert dmg["readable_s"] == pytest.approx(readable_duration(cut).readable_s, abs=0.15)
    text = subprocess.run([*_CLI, "status", "--index", str(idx)], capture_output=True, text=True)
    assert f"damaged: {cut.resolve()}: readable to" in text.stdout
    with Library.open(idx, readonly=True) as lib:
        feats = lib.features(cut)
        assert feats.timestamps[-1] < dmg["readable_s"]  # features stop at the damage
        res = lib.query(whole, top=2, candidates=2)
        (m,) = [m for m in res.results if m.path == str(cut.resolve())]  # searchable
        assert m.match_span_s is None or m.match_span_s[1] <= dmg["readable_s"] + 1e-6
    out = tmp_path / "retimed.mp4"
    r = subprocess.run(
        [*_CLI, "export", str(whole), str(cut), "--out", str(out), "--index", str(idx)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and out.stat().st_size > 0


def test_kill_9_while_writing_features_leaves_old_or_new_and_no_temps(tmp_path: Path) -> None:
    """Another writer (``avr features -o``): killed at random moments, never half a file."""
    import signal

    import numpy as np

    from avr_gui.core.features import load_sequence

    video = tmp_path / "clip.mp4"
    _clip(video, 0, 120, seed=3)
    out = tmp_path / "feats.npz"
    cmd = [*_CLI, "features", str(video), "-o", str(out), "--backend", "thumb16"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    total = time.perf_counter() - t0
    reference = load_sequence(out)
    out.unlink()
    rng = np.random.default_rng(7)
    for _ in range(6):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.3, total)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if out.exists():  # complete, never partial
            np.testing.assert_array_equal(load_sequence(out).features, reference.features)
    # And one writer killed for sure in the middle of its write (the moment is too short
    # to hit reliably from outside): its temporary stays behind.
    mid_write = (
        "import os, sys\n"
        "from avr_gui.core.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half a file')\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", mid_write, str(out)], timeout=60)
    assert any(".avr-tmp-" in p.name for p in tmp_path.iterdir())
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(load_sequence(out).features, reference.features)
    # The next run removed every temporary the killed ones left beside the target.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "feats.npz"]
