"""FrameReader and thumbnail(): frame-accurate random access, checked by the drawn codes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from avr_gui.core.demo.synth import read_code, render_frames, write_video, write_video_av
from avr_gui.core.errors import FrameIndexError, InputError
from avr_gui.core.video import FrameReader, probe, sample_frames, thumbnail

VFR_TIMES = np.array(
    [0, 0.033, 0.1, 0.15, 0.4, 0.45, 0.5, 0.9, 1.0, 1.05, 1.3, 1.333, 1.5, 1.9, 2.0, 2.02]
)
N = 90


def frames(n: int, size: tuple[int, int] = (160, 96)) -> np.ndarray:
    return render_frames(0, np.linspace(0.0, 1.0, n), size, code=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("reader clips ü")
    images = frames(N)
    out = {
        # B-frames and a keyframe every 12 frames: random reads really seek.
        "h264": d / "h264 gop12.mp4",
        "mkv": d / "mpeg4 gop10.mkv",
        "ts": d / "mpeg2 gop15.ts",
        "mp4v": d / "opencv mp4v.mp4",
        "vfr": d / "vfr.mp4",
        "rot90": d / "portrait.mp4",
    }
    write_video_av(out["h264"], images, 30.0, gop=12)
    write_video_av(out["mkv"], images, 30.0, codec="mpeg4", gop=10)
    write_video_av(out["ts"], images, 30.0, codec="mpeg2video", gop=15)
    write_video(out["mp4v"], images, 30.0)
    write_video_av(out["vfr"], frames(len(VFR_TIMES)), 30.0, times=VFR_TIMES)
    write_video_av(out["rot90"], frames(30), 30.0, rotation=90, gop=8)
    return out


RANDOM = [int(i) for i in np.random.default_rng(7).integers(0, N, 40)]
# Forward jumps within and across GOPs, backward jumps, repeats, both ends.
PATTERN = [0, 1, 2, 50, 51, 49, 13, 89, 88, 0, 89, 24, 23, 12, 11, 60, 60, 61, 75, 5, *RANDOM]


@pytest.mark.parametrize("name", ["h264", "mkv", "ts", "mp4v"])
def test_read_is_frame_accurate(clips: dict[str, Path], name: str) -> None:
    with FrameReader(clips[name]) as reader:
        assert reader.decoder == "pyav"
        assert len(reader) == reader.frame_count == N
        assert (reader.width, reader.height) == (160, 96)
        got = [read_code(reader.read(i)) for i in PATTERN]
    assert got == PATTERN


@pytest.mark.parametrize("name", ["h264", "mkv", "ts"])
def test_sequential_reads_never_seek(clips: dict[str, Path], name: str) -> None:
    with FrameReader(clips[name]) as reader:
        assert [read_code(reader.read(i)) for i in range(N)] == list(range(N))
        assert reader.seeks == 0
        reader.read(40)  # backward: one seek
        # MPEG-TS has no index: its seek may land late and be retried a keyframe earlier.
        seeks = reader.seeks
        assert seeks == 1 or (name == "ts" and seeks <= 3)
        for i in range(41, 50):  # then index + 1 again: no more
            assert read_code(reader.read(i)) == i
        reader.read(51)  # a short skip inside the GOP decodes forward
        assert reader.seeks == seeks


def test_indices_and_times_match_sample_frames(clips: dict[str, Path]) -> None:
    for name in ("h264", "vfr"):
        sampled = list(sample_frames(clips[name], None))
        with FrameReader(clips[name]) as reader:
            np.testing.assert_allclose(reader.times, [f.time for f in sampled], atol=1e-9)
            for f in sampled[::3]:
                assert np.array_equal(reader.read(f.index), f.image)


def test_variable_rate_times_and_read_at(clips: dict[str, Path]) -> None:
    with FrameReader(clips["vfr"]) as reader:
        np.testing.assert_allclose(reader.times, VFR_TIMES, atol=1e-4)
        assert not reader.times.flags.writeable
        # The frame showing at t is the last one that started at or before t.
        for t, expect in [(0.0, 0), (0.12, 2), (0.3, 3), (0.4, 4), (0.89, 6), (1.95, 13)]:
            assert reader.index_at(t) == expect
            assert read_code(reader.read_at(t)) == expect
        assert reader.index_at(-5.0) == 0
        assert reader.index_at(99.0) == len(VFR_TIMES) - 1
        with pytest.raises(InputError):
            reader.index_at(float("nan"))


def test_rotated_reader_is_portrait(clips: dict[str, Path]) -> None:
    with FrameReader(clips["rot90"]) as reader:
        assert (reader.width, reader.height) == (96, 160)
        assert reader.info.rotation == 90
        for i in [0, 29, 3, 17, 16, 8]:
            image = reader.read(i)
            assert image.shape == (160, 96, 3)
            assert read_code(cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)) == i
    with FrameReader(clips["rot90"], size=80) as small:
        assert small.read(5).shape == (80, 48, 3)


def test_reads_are_independent_copies(clips: dict[str, Path]) -> None:
    with FrameReader(clips["h264"]) as reader:
        a = reader.read(10)
        a[:] = 0
        assert read_code(reader.read(10)) == 10


def test_out_of_range_and_bad_index(clips: dict[str, Path]) -> None:
    with FrameReader(clips["h264"]) as reader:
        for bad in (-1, N, 10**9):
            with pytest.raises(FrameIndexError, match="outside"):
                reader.read(bad)
        with pytest.raises(FrameIndexError):
            reader.read(2.5)  # type: ignore[arg-type]
        assert read_code(reader.read(np.int64(7))) == 7  # NumPy integers are fine
        with pytest.raises(IndexError):  # FrameIndexError is an IndexError too
            reader.read(N)


def test_opencv_fallback_reader(clips: dict[str, Path]) -> None:
    with FrameReader(clips["h264"], decoder="opencv") as reader:
        assert reader.decoder == "opencv"
        assert [read_code(reader.read(i)) for i in [0, 1, 2, 45, 46, 10, 89]] == [
            0,
            1,
            2,
            45,
            46,
            10,
            89,
        ]


@pytest.mark.parametrize("name", ["h264", "mkv", "ts"])
def test_thumbnail_shows_the_frame_at_a_time(clips: dict[str, Path], name: str) -> None:
    for t, expect in [(0.0, 0), (0.5, 15), (1.01, 30), (2.95, 88), (100.0, 89), (-1.0, 0)]:
        thumb = thumbnail(clips[name], t, max_side=1000)  # never enlarged: code readable
        assert thumb.shape == (96, 160, 3)
        assert read_code(thumb) == expect, (t, expect)
    small = thumbnail(clips[name], 1.0)
    assert small.shape == (96, 160, 3)
    assert thumbnail(clips[name], 1.0, max_side=80).shape == (48, 80, 3)


def test_thumbnail_of_rotated_and_variable_rate(clips: dict[str, Path]) -> None:
    assert thumbnail(clips["rot90"], 0.5, max_side=64).shape == (64, 38, 3)
    assert read_code(thumbnail(clips["vfr"], 0.3, max_side=1000)) == 3
    with pytest.raises(InputError):
        thumbnail(clips["vfr"], float("nan"))
    with pytest.raises(InputError):
        thumbnail(clips["vfr"], 0.0, max_side=0)


def test_info_is_probe(clips: dict[str, Path]) -> None:
    with FrameReader(clips["mkv"]) as reader:
        assert reader.info == probe(clips["mkv"])
