"""probe(): the facts of real generated files (constant/variable rate, rotation, audio)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from avr_gui.core.demo.synth import render_frames, write_video, write_video_av
from avr_gui.core.errors import VideoError
from avr_gui.core.video import VideoInfo, is_variable_rate, probe

# Irregular presentation times (s): what a phone writes when the light drops.
VFR_TIMES = np.array(
    [0, 0.033, 0.1, 0.15, 0.4, 0.45, 0.5, 0.9, 1.0, 1.05, 1.3, 1.333, 1.5, 1.9, 2.0, 2.02]
)


def frames(n: int, size: tuple[int, int] = (160, 96)) -> np.ndarray:
    return render_frames(0, np.linspace(0.0, 1.0, n), size, code=True)


def write_with_audio(path: Path, images: np.ndarray, fps: int) -> None:
    """A clip with an AAC track beside the video, written with PyAV."""
    with av.open(os.fspath(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = images.shape[2], images.shape[1]
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for image in images:
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(video.encode(None))
        samples = np.zeros((1, 1024), np.float32)
        for k in range(len(images) * 48000 // fps // 1024):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.rate = 48000
            frame.pts = k * 1024
            frame.time_base = Fraction(1, 48000)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("probe clips")
    out = {
        "mp4v": d / "cfr mp4v.mp4",
        "h264": d / "cfr h264.mp4",
        "mkv": d / "cfr.mkv",
        "vfr": d / "vfr.mp4",
        "vfr_mkv": d / "vfr.mkv",
        "audio": d / "with audio.mp4",
    }
    write_video(out["mp4v"], frames(30), 15.0)
    write_video_av(out["h264"], frames(45), 30.0, gop=12)
    write_video_av(out["mkv"], frames(40, (128, 64)), 30.0, codec="mpeg4")
    write_video_av(out["vfr"], frames(len(VFR_TIMES)), 30.0, times=VFR_TIMES)
    write_video_av(out["vfr_mkv"], frames(len(VFR_TIMES)), 30.0, times=VFR_TIMES)
    write_with_audio(out["audio"], frames(20), 20)
    for rot in (90, 180, 270):
        out[f"rot{rot}"] = d / f"rotated {rot}.mp4"
        write_video_av(out[f"rot{rot}"], frames(10), 15.0, rotation=rot)
    return out


def test_constant_rate_mp4v(clips: dict[str, Path]) -> None:
    info = probe(clips["mp4v"])
    assert isinstance(info, VideoInfo)
    assert info.decoder == "pyav"
    assert (info.width, info.height) == (160, 96)
    assert (info.coded_width, info.coded_height) == (160, 96)
    assert info.rotation == 0
    assert info.fps == pytest.approx(15.0)
    assert info.frame_count == 30 and info.frame_count_exact
    assert info.duration_s == pytest.approx(2.0, abs=1e-3)
    assert info.codec == "mpeg4"
    assert not info.has_audio
    assert not info.variable_frame_rate
    assert info.path == str(clips["mp4v"])
    with pytest.raises(AttributeError):
        info.fps = 1.0  # type: ignore[misc]  # frozen


def test_h264_with_b_frames_and_matroska(clips: dict[str, Path]) -> None:
    info = probe(clips["h264"])
    assert (info.codec, info.frame_count, info.fps) == ("h264", 45, pytest.approx(30.0))
    assert info.duration_s == pytest.approx(1.5, abs=1e-3)
    assert not info.variable_frame_rate
    mkv = probe(clips["mkv"])
    assert mkv.container.startswith("matroska")
    assert (mkv.width, mkv.height, mkv.frame_count) == (128, 64, 40)
    assert mkv.frame_count_exact  # short file: every packet was counted
    assert mkv.fps == pytest.approx(30.0)
    # Matroska keeps millisecond timestamps: at 30 fps they alternate 33/34 ms, which
    # must not read as a variable rate.
    assert not mkv.variable_frame_rate


@pytest.mark.parametrize("name", ["vfr", "vfr_mkv"])
def test_variable_rate_is_detected_from_timestamps(clips: dict[str, Path], name: str) -> None:
    info = probe(clips[name])
    assert info.variable_frame_rate
    assert info.frame_count == len(VFR_TIMES)
    assert info.duration_s == pytest.approx(VFR_TIMES[-1], abs=0.1)


def test_is_variable_rate_tolerates_rounding() -> None:
    cfr_ms = np.round(np.arange(300) / 30.0, 3)  # 33/34 ms alternation
    assert not is_variable_rate(cfr_ms, 1e-3)
    cfr_ms_120 = np.round(np.arange(300) / 120.0, 3)  # 8/9 ms: 1 tick is 12 %
    assert not is_variable_rate(cfr_ms_120, 1e-3)
    one_drop = np.delete(np.arange(300) / 30.0, 150)  # a single dropped frame
    assert not is_variable_rate(one_drop, 1 / 90000)
    assert is_variable_rate(VFR_TIMES, 1 / 90000)
    assert not is_variable_rate(np.array([0.0, 1.0]), 1e-3)


@pytest.mark.parametrize("rot", [90, 180, 270])
def test_rotation_and_display_size(clips: dict[str, Path], rot: int) -> None:
    info = probe(clips[f"rot{rot}"])
    assert info.rotation == rot
    assert (info.coded_width, info.coded_height) == (160, 96)
    expect = (96, 160) if rot in (90, 270) else (160, 96)
    assert (info.width, info.height) == expect


def test_audio_stream_is_reported(clips: dict[str, Path]) -> None:
    info = probe(clips["audio"])
    assert info.has_audio
    assert info.frame_count == 20
    assert info.fps == pytest.approx(20.0)


@pytest.mark.parametrize("name", ["mp4v", "h264", "rot90", "vfr"])
def test_opencv_backend_agrees(clips: dict[str, Path], name: str) -> None:
    a = probe(clips[name])
    b = probe(clips[name], decoder="opencv")
    assert b.decoder == "opencv"
    assert (b.width, b.height, b.rotation) == (a.width, a.height, a.rotation)
    assert b.frame_count == a.frame_count
    assert b.variable_frame_rate == a.variable_frame_rate


def test_count_frames_reads_every_packet(clips: dict[str, Path]) -> None:
    info = probe(clips["mkv"], count_frames=True)
    assert info.frame_count == 40 and info.frame_count_exact


def test_auto_falls_back_to_opencv_without_pyav(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PyAV unavailable every entry point still works, through OpenCV."""
    from avr_gui.core.demo.synth import read_code
    from avr_gui.core.video import FrameReader, _decoders, sample_frames, thumbnail

    monkeypatch.setattr(_decoders, "av", None)
    info = probe(clips["rot90"])
    assert info.decoder == "opencv"
    assert (info.width, info.height, info.rotation) == (96, 160, 90)
    got = list(sample_frames(clips["mp4v"], None))
    assert [read_code(f.image) for f in got] == list(range(30))
    with FrameReader(clips["mp4v"]) as reader:
        assert reader.decoder == "opencv"
        assert read_code(reader.read(17)) == 17
    assert read_code(thumbnail(clips["mp4v"], 1.0, max_side=1000)) == 15
    with pytest.raises(VideoError, match="PyAV is not installed"):
        probe(clips["mp4v"], decoder="pyav")
