"""sample_frames(): timestamps, frame identity, sampling grid, rotation, resizing, memory."""

from __future__ import annotations

import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from avr_gui.core.demo.synth import read_code, render_frames, write_video, write_video_av
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video import (
    FrameReader,
    SampledFrame,
    output_size,
    probe,
    sample_frames,
    thumbnail,
)

VFR_TIMES = np.array(
    [0, 0.033, 0.1, 0.15, 0.4, 0.45, 0.5, 0.9, 1.0, 1.05, 1.3, 1.333, 1.5, 1.9, 2.0, 2.02]
)
UNROTATE = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def frames(n: int, size: tuple[int, int] = (160, 96)) -> np.ndarray:
    return render_frames(0, np.linspace(0.0, 1.0, n), size, code=True)


def grid_reference(times: np.ndarray, fps: float) -> list[int]:
    """Indices the sampler must keep: first frame, then the first at/after each instant."""
    step = 1.0 / fps
    kept, nxt = [0], times[0] + step
    for i, t in enumerate(times[1:], start=1):
        if t >= nxt - 1e-6:
            kept.append(i)
            while nxt <= t + 1e-6:
                nxt += step
    return kept


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("decode clips")
    out = {
        "cfr": d / "cfr.mp4",
        "h264": d / "h264 b-frames.mp4",
        "vfr": d / "vfr.mp4",
        "big": d / "big.mp4",
        "unicode": d / "vidéo ünï 视频 with spaces.mkv",
    }
    write_video(out["cfr"], frames(30), 15.0)
    write_video_av(out["h264"], frames(45), 30.0, gop=12)
    write_video_av(out["vfr"], frames(len(VFR_TIMES)), 30.0, times=VFR_TIMES)
    write_video_av(out["big"], frames(6, (640, 480)), 30.0)
    write_video_av(out["unicode"], frames(12), 12.0, codec="mpeg4")
    for rot in (90, 180, 270):
        out[f"rot{rot}"] = d / f"rotated {rot}.mp4"
        write_video_av(out[f"rot{rot}"], frames(10), 15.0, rotation=rot)
    return out


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
@pytest.mark.parametrize(("name", "n", "fps"), [("cfr", 30, 15.0), ("h264", 45, 30.0)])
def test_every_frame_has_its_index_and_time(
    clips: dict[str, Path], decoder: str, name: str, n: int, fps: float
) -> None:
    got = list(sample_frames(clips[name], None, decoder=decoder))
    assert [f.index for f in got] == list(range(n))
    assert [read_code(f.image) for f in got] == list(range(n))
    np.testing.assert_allclose([f.time for f in got], np.arange(n) / fps, atol=1e-4)
    for f in got:
        assert isinstance(f, SampledFrame)
        assert f.image.shape == (96, 160, 3) and f.image.dtype == np.uint8
        assert f.image.flags.c_contiguous


@pytest.mark.parametrize("rate", [1.0, 4.0, 5.0, 10.0, 14.0, 15.0, 100.0])
def test_sampling_grid_on_constant_rate(clips: dict[str, Path], rate: float) -> None:
    times = np.arange(30) / 15.0
    got = list(sample_frames(clips["cfr"], rate))
    assert [f.index for f in got] == grid_reference(times, rate)
    assert [read_code(f.image) for f in got] == [f.index for f in got]


def test_default_call_keeps_working(clips: dict[str, Path]) -> None:
    # sample_frames(path, fps, progress=..., cancel=...) is what the features use.
    got = list(sample_frames(str(clips["cfr"]), 10.0, progress=lambda *a: None, cancel=None))
    assert [f.index for f in got] == grid_reference(np.arange(30) / 15.0, 10.0)
    assert [f.index for f in sample_frames(clips["cfr"])] == [f.index for f in got]


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
def test_variable_rate_follows_real_timestamps(clips: dict[str, Path], decoder: str) -> None:
    every = list(sample_frames(clips["vfr"], None, decoder=decoder))
    np.testing.assert_allclose([f.time for f in every], VFR_TIMES, atol=1e-4)
    assert [read_code(f.image) for f in every] == list(range(len(VFR_TIMES)))
    for rate in (2.0, 5.0, 10.0):
        got = list(sample_frames(clips["vfr"], rate, decoder=decoder))
        assert [f.index for f in got] == grid_reference(VFR_TIMES, rate)
        np.testing.assert_allclose([f.time for f in got], VFR_TIMES[[f.index for f in got]])
    # Counting frames at a nominal rate would put frame 4 at 0.133 s: it is at 0.4 s.
    assert every[4].time == pytest.approx(0.4, abs=1e-4)


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
@pytest.mark.parametrize("rot", [90, 180, 270])
def test_rotated_video_decodes_in_display_orientation(
    clips: dict[str, Path], rot: int, decoder: str
) -> None:
    got = list(sample_frames(clips[f"rot{rot}"], None, decoder=decoder))
    assert len(got) == 10
    shape = (160, 96, 3) if rot in (90, 270) else (96, 160, 3)
    for f in got:
        assert f.image.shape == shape  # portrait stays portrait
        assert f.image.flags.c_contiguous
        # The code blocks sit bottom-left of the stored picture: turning the displayed
        # image back must find them there, with the right number.
        assert read_code(cv2.rotate(f.image, UNROTATE[rot])) == f.index


def test_backends_give_the_same_pixels(clips: dict[str, Path]) -> None:
    for name in ("h264", "rot90", "vfr"):
        a = list(sample_frames(clips[name], None, decoder="pyav"))
        b = list(sample_frames(clips[name], None, decoder="opencv"))
        assert [(f.index, round(f.time, 4)) for f in a] == [(f.index, round(f.time, 4)) for f in b]
        for fa, fb in zip(a, b, strict=True):
            assert np.abs(fa.image.astype(int) - fb.image).mean() < 3.0


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({"size": 200}, (150, 200, 3)),
        ({"size": 201}, (151, 201, 3)),  # odd sides take the careful path
        ({"short_side": 120}, (120, 160, 3)),
        ({"size": 5000}, (480, 640, 3)),  # never enlarged
        ({"size": 1}, (1, 1, 3)),
    ],
)
def test_resize_keeps_aspect_and_content(
    clips: dict[str, Path], decoder: str, kwargs: dict, shape: tuple[int, int, int]
) -> None:
    full = list(sample_frames(clips["big"], None, decoder=decoder))
    small = list(sample_frames(clips["big"], None, decoder=decoder, **kwargs))
    assert len(small) == len(full) == 6
    for f, s in zip(full, small, strict=True):
        assert s.image.shape == shape and s.image.dtype == np.uint8
        assert s.image.flags.c_contiguous
        assert (s.time, s.index) == (f.time, f.index)
        reference = cv2.resize(f.image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        assert np.abs(reference.astype(int) - s.image).mean() < 4.0


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
def test_resize_of_rotated_video_stays_portrait(clips: dict[str, Path], decoder: str) -> None:
    got = list(sample_frames(clips["rot90"], None, size=80, decoder=decoder))
    assert {f.image.shape for f in got} == {(80, 48, 3)}
    got = list(sample_frames(clips["rot90"], None, short_side=48, decoder=decoder))
    assert {f.image.shape for f in got} == {(80, 48, 3)}


def test_pixel_aspect_ratio_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "anamorphic.mp4"
    images = frames(8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(2, 1)  # pixels twice as wide
        for image in images:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    info = probe(path)
    assert (info.width, info.height, info.coded_width) == (320, 96, 160)
    got = list(sample_frames(path, None))
    assert {f.image.shape for f in got} == {(96, 320, 3)}
    assert [read_code(cv2.resize(f.image, (160, 96))) for f in got] == list(range(8))
    with FrameReader(path, size=160) as reader:
        assert reader.read(3).shape == (48, 160, 3)


def test_output_size() -> None:
    assert output_size(640, 480) == (640, 480)
    assert output_size(640, 480, size=320) == (320, 240)
    assert output_size(480, 640, size=320) == (240, 320)
    assert output_size(640, 480, short_side=240) == (320, 240)
    assert output_size(640, 480, short_side=960) == (640, 480)
    assert output_size(7680, 4320, size=320) == (320, 180)
    assert output_size(10000, 10, size=100) == (100, 1)


def test_huge_resolution_never_materialises_full_frames(tmp_path: Path) -> None:
    """An 8K clip sampled at size=320: no full-size array is ever made in Python.

    tracemalloc sees NumPy's allocations (not FFmpeg's own frame buffers), so the peak
    is what the module allocates: one full 7680x4320 BGR frame alone would be 99.5 MB.
    """
    w, h = 7680, 4320
    images = np.zeros((2, h, w, 3), np.uint8)
    images[1, :, : w // 2] = 200
    images[:, : h // 3, :, 1] = 90
    path = tmp_path / "8k clip.mkv"
    write_video_av(path, images, 10.0, options={"preset": "ultrafast"})
    del images
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        got = list(sample_frames(path, None, size=320))
        with FrameReader(path, size=320) as reader:
            last = reader.read(1)
            assert (reader.width, reader.height) == (320, 180)
        thumb = thumbnail(path, 0.1, max_side=160)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [f.image.shape for f in got] == [(180, 320, 3)] * 2
    assert last.shape == (180, 320, 3) and thumb.shape == (90, 160, 3)
    # The right half of frame 1 is grey 200 under a green band: the content survived.
    assert abs(float(last[150, 10].mean()) - 200) < 6
    assert abs(float(last[150, 300].mean()) - 0) < 6
    assert peak < 20e6, f"peak traced memory {peak / 1e6:.1f} MB"


def test_unicode_and_spaces_in_path(clips: dict[str, Path]) -> None:
    path = clips["unicode"]
    assert " " in path.name and "视频" in path.name
    for decoder in ("pyav", "opencv"):
        got = list(sample_frames(path, None, decoder=decoder))
        assert [read_code(f.image) for f in got] == list(range(12))
    assert list(sample_frames(str(path), 4.0))[1].index == 3


def test_progress_reports_and_cancel(clips: dict[str, Path]) -> None:
    calls: list[tuple[int, int, str]] = []
    list(sample_frames(clips["h264"], 5.0, progress=lambda d, t, m: calls.append((d, t, m))))
    assert calls[-1][:2] == (45, 45)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert all(c[1] == 45 and "h264 b-frames.mp4" in c[2] for c in calls)

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        next(iter(sample_frames(clips["h264"], None, cancel=token)))

    token = CancelToken()
    it = sample_frames(clips["h264"], None, cancel=token)
    assert next(it).index == 0
    token.cancel()
    with pytest.raises(Cancelled):
        next(it)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fps": 0},
        {"fps": -1.0},
        {"fps": float("nan")},
        {"fps": float("inf")},
        {"fps": "10"},
        {"size": 0},
        {"size": 2.5},
        {"short_side": -3},
        {"size": 100, "short_side": 100},
        {"prefetch": -1},
        {"prefetch": True},
        {"decoder": "gstreamer"},
    ],
)
def test_bad_arguments_raise_at_call_time(clips: dict[str, Path], kwargs: dict) -> None:
    fps = kwargs.pop("fps", 10.0)
    with pytest.raises(InputError):
        sample_frames(clips["cfr"], fps, **kwargs)
