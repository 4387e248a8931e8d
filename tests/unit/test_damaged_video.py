"""Videos cut short (an MP4 whose index survives the cut): real files, real decoding."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, read_code, render_frames, write_video_av
from avr_gui.core.errors import DecodeWarning
from avr_gui.core.export import WarpCurve, export_video, frame_map
from avr_gui.core.video import FrameReader, probe, readable_duration, sample_frames

FPS = 10.0
N = 100  # 10.0 s


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 10 s clip whose frames carry their index, whole and cut at 40 % and 70 %."""
    d = tmp_path_factory.mktemp("damaged")
    frames = render_frames(0, np.linspace(0, 1, N), (160, 120), ClipStyle(seed=3), code=True)
    whole = d / "whole.mp4"
    # faststart: the index is at the front, so the cut file still opens (a phone's or a
    # web download's file cut by a full card or a broken transfer).
    write_video_av(whole, frames, FPS, container_options={"movflags": "faststart"})
    data = whole.read_bytes()
    out = {"whole": whole}
    for pct in (40, 70):
        cut = d / f"cut {pct}.mp4"
        cut.write_bytes(data[: len(data) * pct // 100])
        out[pct] = cut
    return out


def _decoded_end(path: Path) -> float:
    """Where a full decode stops: the last frame's time plus one frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        return max(f.time for f in sample_frames(path, None)) + 1 / FPS


@pytest.mark.parametrize("pct", [40, 70])
def test_probe_still_reports_the_nominal_length(clips, pct):
    # What the headers say: the damage is invisible to probe (kept cheap on purpose).
    assert probe(clips[pct]).duration_s == pytest.approx(10.0)


@pytest.mark.parametrize("pct", [40, 70])
def test_readable_duration_finds_where_decoding_stops(clips, pct):
    found = readable_duration(clips[pct])
    assert found.damaged and found.nominal_s == pytest.approx(10.0)
    assert found.readable_s == pytest.approx(_decoded_end(clips[pct]), abs=1e-6)
    assert found.damaged_at == found.readable_s < 10.0 * pct / 100
    assert found.describe("x.mp4") == f"x.mp4: damaged: plays to {found.readable_s:.1f} s of 10.0 s"


def test_readable_duration_of_an_intact_clip_is_its_length(clips):
    found = readable_duration(clips["whole"])
    assert not found.damaged and found.damaged_at is None
    assert found.readable_s == pytest.approx(10.0)


@pytest.mark.parametrize("pct", [40, 70])
def test_reader_ends_at_the_damage_and_every_frame_reads(clips, pct):
    with pytest.warns(DecodeWarning, match="damaged: plays to"):
        FrameReader(clips[pct]).close()  # no callback: a Python warning
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecodeWarning)  # a callback: said there only
        reader = FrameReader(clips[pct], on_warning=notes.append)
    with reader:
        assert reader.damaged_at == pytest.approx(readable_duration(clips[pct]).readable_s)
        assert reader.nominal_s == pytest.approx(10.0)
        assert reader.times[-1] < reader.damaged_at <= reader.times[-1] + 1 / FPS + 1e-9
        n = len(reader)
        # Forward, then backward (the order reverse play asks for): nothing fails.
        for i in [*range(n), *range(n - 1, -1, -1)]:
            assert read_code(reader.read(i)) == i
    assert len(notes) == 1
    assert notes[0].startswith(f"cut {pct}.mp4: damaged: plays to {reader.damaged_at:.1f} s")
    assert "\n" not in notes[0]


def test_intact_reader_reports_no_damage(clips):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecodeWarning)
        with FrameReader(clips["whole"]) as reader:
            assert reader.damaged_at is None and len(reader) == N
            assert reader.nominal_s == pytest.approx(10.0)


def _identity_map(query: Path, match: Path):
    with FrameReader(query) as qr, FrameReader(match) as mr:
        qt, mt = qr.times.copy(), mr.times.copy()
    # Same speed: query second t shows match second t (beyond the match's end: clamped).
    return frame_map(WarpCurve(np.array([0.0, 10.0]), np.array([0.0, 10.0])), qt, mt)


@pytest.mark.parametrize("pct", [40, 70])
def test_export_with_a_damaged_match_holds_its_last_readable_frame(clips, pct, tmp_path):
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        fmap = _identity_map(clips["whole"], clips[pct])
        out = tmp_path / "retimed.mp4"
        result = export_video(
            clips["whole"], clips[pct], out, fmap, audio="none", on_warning=notes.append
        )
        with FrameReader(out) as written:
            codes = [read_code(written.read(i)) for i in range(len(written))]
    last = int(fmap.match_frame.max())
    assert result.frame_count == N == len(codes)
    assert codes == [min(i, last) for i in range(N)]
    assert codes[-1] == last and last < N * pct / 100
    assert len(notes) == 1 and "\n" not in notes[0]
    assert notes[0].startswith(f"cut {pct}.mp4: damaged: plays to ")
    assert notes[0].endswith("then holds its last readable frame")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retimed.mp4"]


@pytest.mark.parametrize("pct", [40, 70])
def test_export_of_a_damaged_query_ends_at_the_damage(clips, pct, tmp_path):
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        fmap = _identity_map(clips[pct], clips["whole"])
        out = tmp_path / "comparison.mp4"
        result = export_video(
            clips[pct],
            clips["whole"],
            out,
            fmap,
            mode="side-by-side",
            audio="none",
            on_warning=notes.append,
        )
        with FrameReader(clips[pct]) as query, FrameReader(out) as written:
            assert len(written) == result.frame_count == len(query)
            assert written.times[-1] == pytest.approx(query.times[-1], abs=1e-3)
    assert notes == [
        f"cut {pct}.mp4: damaged: plays to {notes[0].split('plays to ')[1].split(' s')[0]} s "
        "of 10.0 s; the export ends there"
    ]
