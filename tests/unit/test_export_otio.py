"""The OTIO timeline: reads back with opentimelineio and follows the time map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avr_gui.core.export import (
    OutputPathError,
    WarpCurve,
    build_timeline,
    frame_map,
    save_timeline,
    speed_segments,
)

Q_FPS, M_FPS = 15.0, 25.0


@pytest.fixture
def fmap():
    qt = np.arange(60) / Q_FPS
    mt = np.arange(100) / M_FPS
    # Slow, hold, fast, normal.
    curve = WarpCurve(np.array([0.0, 1.0, 1.6, 2.4, qt[-1]]), np.array([0.0, 0.5, 0.5, 2.5, 3.2]))
    return frame_map(curve, qt, mt)


def _segment_frames(track: otio.schema.Track, n: int) -> np.ndarray:
    """Match frame each timeline frame shows, as an editor would compute it."""
    shown = np.empty(n)
    t = 0
    for clip in track:
        start = clip.source_range.start_time.to_seconds()
        frames = round(clip.source_range.duration.to_seconds() * Q_FPS)
        speed = 1.0
        for fx in clip.effects:
            speed = 0.0 if isinstance(fx, otio.schema.FreezeFrame) else fx.time_scalar
        k = np.arange(frames)
        shown[t : t + frames] = (start + speed * k / Q_FPS) * M_FPS
        t += frames
    assert t == n
    return shown


def test_timeline_reads_back_and_follows_the_map(tmp_path: Path, fmap):
    out = tmp_path / "tïmeline.otio"
    tl = build_timeline(
        fmap,
        tmp_path / "query clip.mp4",
        tmp_path / "match.mp4",
        query_fps=Q_FPS,
        match_fps=M_FPS,
        match_frames=100,
        rendered_path=tmp_path / "retimed.mp4",
    )
    save_timeline(out, tl)
    back = otio.adapters.read_from_file(str(out))
    assert [t.name for t in back.tracks] == [
        "V1 query",
        "V2 match (speed segments)",
        "V3 match (rendered)",
    ]
    for track in back.tracks:
        assert track.duration().to_frames() == len(fmap)
        assert track.duration().rate == Q_FPS
    v1 = back.tracks[0][0]
    assert v1.media_reference.target_url.startswith("file://")
    assert "query%20clip.mp4" in v1.media_reference.target_url
    shown = _segment_frames(back.tracks[1], len(fmap))
    assert np.abs(shown - fmap.match_frame).max() <= 1.0
    effects = [type(fx).__name__ for c in back.tracks[1] for fx in c.effects]
    assert "FreezeFrame" in effects and "LinearTimeWarp" in effects
    assert list(back.metadata["avr"]["match_frame"]) == fmap.match_frame.tolist()


def test_timeline_needs_the_otio_suffix(tmp_path: Path, fmap):
    tl = build_timeline(fmap, "q.mp4", "m.mp4", query_fps=Q_FPS, match_fps=M_FPS, match_frames=100)
    with pytest.raises(OutputPathError, match=r"\.otio"):
        save_timeline(tmp_path / "t.json", tl)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 4.0), min_size=1, max_size=80), st.floats(0.2, 2.0))
def test_segments_cover_everything_within_tolerance(steps, tol):
    y = np.concatenate([[0.0], np.cumsum(steps)])
    runs = speed_segments(y, tol)
    assert runs[0][0] == 0 and runs[-1][1] == len(y)
    assert all(a < b for a, b in runs)
    assert all(runs[k][1] == runs[k + 1][0] for k in range(len(runs) - 1))
    for a, b in runs:
        last = min(b, len(y) - 1)
        k = np.arange(a, last + 1)
        line = y[a] + (y[last] - y[a]) * (k - a) / max(last - a, 1)
        assert np.abs(line - y[a : last + 1]).max() <= tol + 1e-9
