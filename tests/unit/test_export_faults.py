"""Exports under faults: killed mid-write, a full disk. Real encoding, real processes."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import write_video_av
from avr_gui.core.errors import DiskFullError
from avr_gui.core.export import WarpCurve, export_video, frame_map, save_map
from avr_gui.core.video import FrameReader

FPS = 25.0
N = 100
SIZE = (320, 240)

# Exports the two clips side by side with a slow preset, so a kill lands mid-write.
EXPORT_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from avr_gui.core.export import EncodeOptions, WarpCurve, export_video, frame_map
    from avr_gui.core.video import FrameReader

    query, match, out = sys.argv[1:4]
    with FrameReader(query) as qr, FrameReader(match) as mr:
        qt, mt = qr.times.copy(), mr.times.copy()
    curve = WarpCurve(np.array([0.0, qt[-1]]), np.array([0.0, mt[-1]]))
    export_video(
        query, match, out, frame_map(curve, qt, mt), mode="side-by-side", audio="none",
        options=EncodeOptions(preset="slow"),
    )
    """
)


def _noise_clip(path: Path, seed: int) -> Path:
    """Incompressible frames: the export is large and slow to encode."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (N, SIZE[1], SIZE[0], 3), dtype=np.uint8)
    write_video_av(path, frames, FPS, options={"preset": "ultrafast"})
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("noise")
    return _noise_clip(d / "query.mp4", 1), _noise_clip(d / "match.mp4", 2)


def _identity_map(query: Path, match: Path):
    with FrameReader(query) as qr, FrameReader(match) as mr:
        qt, mt = qr.times.copy(), mr.times.copy()
    return frame_map(WarpCurve(np.array([0.0, qt[-1]]), np.array([0.0, mt[-1]])), qt, mt)


def _temps(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.avr-tmp-*"))


def _kill_during_export(clips: tuple[Path, Path], out: Path, delay_s: float) -> bool:
    """Start an export in a subprocess, kill -9 it ``delay_s`` after its temp file appears.

    Returns whether the kill landed while its own temporary file existed.
    """
    before = set(_temps(out.parent, out.name))  # left by earlier kills

    def new_temps() -> set[Path]:
        return set(_temps(out.parent, out.name)) - before

    proc = subprocess.Popen(
        [sys.executable, "-c", EXPORT_SCRIPT, str(clips[0]), str(clips[1]), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not new_temps() and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        time.sleep(delay_s)
        proc.kill()
    finally:
        proc.wait()
    # Killed (not finished) with its temporary on disk: the kill landed mid-write.
    return proc.returncode == -9 and bool(new_temps())


@pytest.mark.slow
def test_killed_exports_leave_nothing_after_the_next_export(clips, tmp_path):
    out = tmp_path / "export.mp4"
    out.write_bytes(b"the previous export")
    rng = random.Random(17)
    landed = 0
    for _ in range(3):
        if _kill_during_export(clips, out, rng.uniform(0.0, 0.4)):
            landed += 1
            # Killed mid-write: the old file is untouched, the temporary is left over.
            assert out.read_bytes() == b"the previous export"
        else:  # finished before the kill: start the next try from the old file again
            out.write_bytes(b"the previous export")
    assert landed >= 2, "the export finished before it could be killed"

    result = export_video(clips[0], clips[1], out, _identity_map(*clips), mode="side-by-side")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.mp4"]
    with FrameReader(out) as reader:
        assert len(reader) == N == result.frame_count
        assert reader.damaged_at is None


def test_other_hidden_files_survive_the_cleanup(clips, tmp_path):
    out = tmp_path / "export.mp4"
    keep = [tmp_path / ".export.mp4.k3j4h5g6.mp4", tmp_path / ".other.avr-tmp-note"]
    for p in keep:
        p.write_bytes(b"not ours")
    assert _kill_during_export(clips, out, 0.05)
    export_video(clips[0], clips[1], out, _identity_map(*clips), mode="retimed")
    assert sorted(tmp_path.iterdir()) == sorted([out, *keep])


@pytest.fixture
def tiny_fs(mount_tmpfs):
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    return mount_tmpfs("1m")


def test_export_to_a_full_disk_says_so_and_leaves_nothing(clips, tiny_fs):
    out = tiny_fs / "comparison.mp4"
    with pytest.raises(DiskFullError) as info:
        export_video(clips[0], clips[1], out, _identity_map(*clips), mode="side-by-side")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{out}: disk full (needed ~")
    assert message.endswith("MB free); free some space or choose another folder")
    assert info.value.needed_bytes is not None and info.value.needed_bytes > 1_000_000
    assert list(tiny_fs.iterdir()) == []


def test_cli_export_to_a_full_disk_is_one_line_naming_the_file(clips, tiny_fs, tmp_path, capsys):
    from avr_gui.cli import main

    map_path = tmp_path / "map.json"
    save_map(map_path, _identity_map(*clips), {}, sources=clips)
    out = tiny_fs / "retimed.mp4"
    code = main(["export", str(clips[0]), str(clips[1]), "--out", str(out), "--map", str(map_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert err[-1].startswith(f"avr: error: {out}: disk full (needed ~")
    assert "move" not in err[-1] and "Traceback" not in "\n".join(err)
    assert list(tiny_fs.iterdir()) == []
