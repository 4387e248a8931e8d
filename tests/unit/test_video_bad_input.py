"""Bad and damaged video files: typed one-line errors, or the readable frames plus a warning."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from avr_gui.core.demo.synth import read_code, render_frames, write_video, write_video_av
from avr_gui.core.errors import (
    AvrError,
    CorruptVideoError,
    DecodeWarning,
    EmptyFileError,
    InputError,
    MissingFileError,
    NoFramesError,
    NotAFileError,
    NotAVideoError,
    VideoError,
)
from avr_gui.core.video import FrameReader, probe, sample_frames, thumbnail

N = 60

# Every public entry point that opens a file, as f(path).
OPENERS: dict[str, Callable[[Path], object]] = {
    "probe": probe,
    "probe_opencv": lambda p: probe(p, decoder="opencv"),
    "sample_frames": lambda p: list(sample_frames(p)),
    "sample_frames_prefetch": lambda p: list(sample_frames(p, prefetch=2)),
    "sample_frames_opencv": lambda p: list(sample_frames(p, decoder="opencv")),
    "FrameReader": lambda p: FrameReader(p).close(),
    "thumbnail": lambda p: thumbnail(p, 0.5),
}


def frames(n: int) -> np.ndarray:
    return render_frames(0, np.linspace(0.0, 1.0, n), (160, 96), code=True)


def cut(src: Path, dst: Path, fraction: float | None = None, at: int | None = None) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: at if at is not None else int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad inputs ü")
    images = frames(N)
    out: dict[str, Path] = {}
    out["missing"] = d / "no such clip.mp4"
    out["folder"] = d / "a folder.mp4"
    out["folder"].mkdir()
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["text"] = d / "notes.mp4"
    out["text"].write_text("this is not a video\n" * 20)
    out["noise"] = d / "noise.bin"
    out["noise"].write_bytes(np.random.default_rng(0).integers(0, 256, 20000, np.uint8).tobytes())
    out["image"] = d / "still.png"
    cv2.imwrite(str(out["image"]), images[0])
    out["audio"] = d / "sound only.wav"
    with av.open(str(out["audio"]), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        f = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        f.rate = 8000
        c.mux(s.encode(f))
        c.mux(s.encode(None))

    # OpenCV's MP4 puts its index (moov) at the end: cut, nothing is readable.
    full_mp4v = d / "full mp4v.mp4"
    write_video(full_mp4v, images, 30.0)
    out["mp4_cut"] = cut(full_mp4v, d / "cut mp4v.mp4", 0.5)
    # With the index up front, an MP4 cut right after it holds no picture data at all.
    fast = d / "faststart.mp4"
    write_video_av(fast, images, 30.0, container_options={"movflags": "faststart"})
    out["mp4_header_only"] = cut(fast, d / "header only.mp4", at=fast.read_bytes().index(b"mdat"))
    out["mp4_fast_cut"] = cut(fast, d / "faststart cut.mp4", 0.5)
    # Streams that stay decodable up to the cut.
    mkv = d / "full.mkv"
    write_video_av(mkv, images, 30.0, gop=10)
    out["mkv_cut"] = cut(mkv, d / "cut in half.mkv", 0.5)
    ts = d / "full.ts"
    write_video_av(ts, images, 30.0, codec="mpeg2video", gop=10)
    out["ts_cut"] = cut(ts, d / "cut in half.ts", 0.5)
    # Garbage over a stretch in the middle of the file.
    data = bytearray(mkv.read_bytes())
    k = len(data) // 3
    data[k : k + 400] = np.random.default_rng(1).integers(0, 256, 400, np.uint8).tobytes()
    out["mkv_garbled"] = d / "garbled.mkv"
    out["mkv_garbled"].write_bytes(bytes(data))
    return out


def check_error(exc_type: type[Exception], fn: Callable[[], object], *fragments: str) -> str:
    with pytest.raises(AvrError) as info:
        fn()
    err = info.value
    assert type(err) is exc_type, f"expected {exc_type.__name__}, got {type(err).__name__}: {err}"
    msg = str(err)
    assert "\n" not in msg and len(msg) < 300
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return msg


CASES = [
    ("missing", MissingFileError, "no such file"),
    ("folder", NotAFileError, "is a folder"),
    ("empty", EmptyFileError, "empty"),
    ("text", NotAVideoError, "not a video"),
    ("noise", NotAVideoError, "not a video"),
]


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize(("case", "exc_type", "fragment"), CASES)
def test_unusable_files_raise_typed_errors(
    bad: dict[str, Path], opener: str, case: str, exc_type: type[Exception], fragment: str
) -> None:
    msg = check_error(exc_type, lambda: OPENERS[opener](bad[case]), fragment)
    assert bad[case].name in msg
    assert issubclass(exc_type, InputError) and issubclass(exc_type, ValueError)


def test_path_errors_come_at_call_time(bad: dict[str, Path]) -> None:
    # The features code wraps the loop; an error before the first frame is clearer.
    with pytest.raises(MissingFileError):
        sample_frames(bad["missing"])


@pytest.mark.parametrize("opener", ["probe", "sample_frames", "FrameReader", "thumbnail"])
def test_audio_only_and_still_images_are_not_videos(bad: dict[str, Path], opener: str) -> None:
    check_error(NotAVideoError, lambda: OPENERS[opener](bad["audio"]), "no video stream", "audio")
    check_error(NotAVideoError, lambda: OPENERS[opener](bad["image"]), "still image")


@pytest.mark.parametrize("opener", ["probe", "sample_frames", "FrameReader", "thumbnail"])
def test_mp4_cut_before_its_index_is_a_clear_error(bad: dict[str, Path], opener: str) -> None:
    msg = check_error(CorruptVideoError, lambda: OPENERS[opener](bad["mp4_cut"]), "truncated")
    assert "cut mp4v.mp4" in msg
    assert issubclass(CorruptVideoError, VideoError)


@pytest.mark.parametrize("opener", ["probe", "sample_frames", "FrameReader", "thumbnail"])
def test_zero_decodable_frames(bad: dict[str, Path], opener: str) -> None:
    check_error(NoFramesError, lambda: OPENERS[opener](bad["mp4_header_only"]), "no decodable")


@pytest.mark.parametrize(("decoder", "ahead"), [("pyav", 0), ("pyav", 3), ("opencv", 0)])
@pytest.mark.parametrize("case", ["mkv_cut", "ts_cut", "mp4_fast_cut"])
def test_truncated_stream_gives_its_frames_and_a_warning(
    bad: dict[str, Path], case: str, decoder: str, ahead: int
) -> None:
    if decoder == "opencv" and case == "ts_cut":
        pytest.skip("OpenCV reports no frame count for MPEG-TS: a cut one looks complete")
    messages: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecodeWarning)  # a callback: said there only
        got = list(
            sample_frames(
                bad[case], None, decoder=decoder, prefetch=ahead, on_warning=messages.append
            )
        )
    assert 3 <= len(got) < N
    # The readable frames are the first ones, in order, each the frame it claims to be.
    assert [read_code(f.image) for f in got] == list(range(len(got)))
    assert [f.index for f in got] == list(range(len(got)))
    assert len(messages) == 1
    # Without a callback the same message is a Python warning.
    with pytest.warns(DecodeWarning) as record:
        list(sample_frames(bad[case], None, decoder=decoder, prefetch=ahead))
    assert messages[0] == str(record[0].message)
    assert bad[case].name in messages[0] and "truncated" in messages[0]
    assert "\n" not in messages[0]


def test_complete_files_do_not_warn(tmp_path: Path) -> None:
    path = tmp_path / "fine.mkv"
    write_video_av(path, frames(20), 30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(sample_frames(path, None))) == 20
        assert len(list(sample_frames(path, None, decoder="opencv"))) == 20


def test_truncated_stream_random_access_and_probe(bad: dict[str, Path]) -> None:
    info = probe(bad["mkv_cut"])
    assert info.frame_count > 3
    with pytest.warns(DecodeWarning, match="truncated"):
        reader = FrameReader(bad["mkv_cut"])
    with reader:
        n = len(reader)
        assert 3 <= n < N
        for i in [n - 1, 0, n // 2, 1]:
            assert read_code(reader.read(i)) == i
    assert read_code(thumbnail(bad["mkv_cut"], 100.0, max_side=1000)) == n - 1


def test_garbled_middle_never_crashes(bad: dict[str, Path]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        got = list(sample_frames(bad["mkv_garbled"], None))
        assert 10 < len(got) <= N
        times = [f.time for f in got]
        assert times == sorted(times) and len(set(times)) == len(times)
        codes = [read_code(f.image) for f in got]
        # In order, except where FFmpeg conceals the garbled bytes: what it paints there
        # varies with its decoding threads (a fresh clone under load read one such frame
        # as 0), so at most a couple of frames may read back as some other number.
        backwards = sum(b < a for a, b in itertools.pairwise(codes))
        assert codes[0] == 0 and codes[-1] > codes[len(codes) // 2] and backwards <= 2
        with FrameReader(bad["mkv_garbled"]) as reader:
            for i in range(0, len(reader), 7):
                reader.read(i)
