"""Export videos on generated clips whose frames carry their own index: frame-exact output."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from avr_gui.core.demo.synth import (
    ClipStyle,
    read_code,
    render_frames,
    speed_warp,
    write_video_av,
)
from avr_gui.core.errors import CorruptVideoError, InputError, NotAVideoError, UnsupportedFileError
from avr_gui.core.export import (
    MODES,
    EncodeOptions,
    EncoderUnavailableError,
    OutputPathError,
    WarpCurve,
    export_video,
    frame_map,
)
from avr_gui.core.export import encode as encode_module
from avr_gui.core.export.retime import check_output
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video import FrameReader, probe

Q_FPS, M_FPS = 15.0, 25.0
Q_N, M_N = 40, 56
SR = 48000


def write_clip(path: Path, frames: np.ndarray, fps: float, tone: float | None = None) -> None:
    """H.264 video (+ an AAC sine tone as long as the video) muxed with PyAV."""
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(os.fspath(path), "w") as out:
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height = frames.shape[2], frames.shape[1]
        vs.pix_fmt = "yuv420p"
        aud = None
        if tone is not None:
            aud = out.add_stream("aac", rate=SR)
            aud.layout = "stereo"
            n = round(len(frames) / fps * SR)
            t = np.arange(n) / SR
            wave = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            data = np.ascontiguousarray(np.stack([wave, wave]))
            for s in range(0, n, 1024):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(data[:, s : s + 1024]), format="fltp", layout="stereo"
                )
                frame.sample_rate, frame.pts = SR, s
                out.mux(aud.encode(frame))
            out.mux(aud.encode(None))
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            f.pts = i
            out.mux(vs.encode(f))
        out.mux(vs.encode(None))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("export clips ünï")
    q = render_frames(0, speed_warp(Q_N, (1.0,)), (160, 120), ClipStyle(seed=1), code=True)
    m = render_frames(0, speed_warp(M_N, (0.5, 2.0, 1.0)), (160, 120), ClipStyle(seed=2), code=True)
    big = render_frames(0, speed_warp(M_N, (1.0,)), (241, 181), ClipStyle(seed=3), code=True)
    portrait = render_frames(0, speed_warp(30, (1.0,)), (112, 160), ClipStyle(seed=5), code=True)
    paths = {k: d / f"{k} clip.mp4" for k in ("query", "match", "portrait")}
    paths["big"] = d / "big clip.mkv"
    write_clip(paths["query"], q, Q_FPS, tone=440.0)
    write_clip(paths["match"], m, M_FPS, tone=660.0)
    write_video_av(paths["big"], big, M_FPS, codec="mpeg4")  # odd sides (x264 refuses them)
    write_video_av(paths["portrait"], portrait, 30.0)
    return paths


def _map(query: Path, match: Path):
    qt, mt = FrameReader(query).times, FrameReader(match).times
    # A warp with a slow part, a fast part and a hold: every kind of retiming.
    curve = WarpCurve(
        np.array([0.0, 0.8, 1.2, 1.6, qt[-1]]), np.array([0.0, 0.3, 0.3, 1.2, mt[-1]])
    )
    return frame_map(curve, qt, mt), curve


def _codes(path: Path, box: tuple[int, int, int, int] | None = None) -> list[int]:
    with FrameReader(path) as r:
        out = []
        for i in range(len(r)):
            img = r.read(i)
            if box is not None:
                x, y, w, h = box
                img = img[y : y + h, x : x + w]
            out.append(read_code(img))
        return out


def _audio_samples(path: Path) -> tuple[int, int]:
    with av.open(os.fspath(path)) as c:
        if not c.streams.audio:
            return 0, 0
        s = c.streams.audio[0]
        return sum(f.samples for f in c.decode(s)), s.codec_context.sample_rate


def test_retimed_frames_are_exactly_the_mapped_match_frames(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "retimed.mp4"
    seen = []
    res = export_video(
        clips["query"], clips["match"], out, fmap, progress=lambda d, t, m: seen.append(d)
    )
    assert res.codec == "libx264"
    assert np.array_equal(res.source_frames, fmap.match_frame)
    assert _codes(out) == fmap.match_frame.tolist()
    assert len(set(fmap.match_frame.tolist())) < Q_N  # the hold repeats frames
    info, qinfo = probe(out, count_frames=True), probe(clips["query"], count_frames=True)
    assert info.codec == "h264"
    assert info.frame_count == qinfo.frame_count == Q_N
    assert info.fps == pytest.approx(qinfo.fps)
    assert info.duration_s == pytest.approx(qinfo.duration_s, abs=1e-3)
    assert (info.width, info.height) == (160, 120)
    np.testing.assert_allclose(FrameReader(out).times, FrameReader(clips["query"]).times)
    assert seen[-1] == Q_N


def test_retimed_keeps_the_match_full_resolution_even_when_odd(clips, tmp_path):
    qt, mt = FrameReader(clips["query"]).times, FrameReader(clips["big"]).times
    fmap = frame_map(WarpCurve(np.array([0.0, qt[-1]]), np.array([0.0, mt[-1]])), qt, mt)
    out = tmp_path / "big.mkv"
    res = export_video(clips["query"], clips["big"], out, fmap, audio="none")
    assert res.size == (241, 181)
    info = probe(out)
    assert (info.width, info.height) == (242, 182)  # 4:2:0 needs even sides: one pixel padded
    assert _codes(out) == fmap.match_frame.tolist()


def test_reverse_keeps_the_match_timing(clips, tmp_path):
    fmap, curve = _map(clips["query"], clips["match"])
    out = tmp_path / "reverse.mp4"
    res = export_video(clips["query"], clips["match"], out, fmap, mode="reverse", curve=curve)
    info, minfo = probe(out, count_frames=True), probe(clips["match"], count_frames=True)
    assert info.frame_count == minfo.frame_count == M_N
    assert info.fps == pytest.approx(M_FPS)
    assert info.duration_s == pytest.approx(minfo.duration_s, abs=1e-3)
    assert _codes(out) == res.source_frames.tolist()
    # Match frame j shows the query frame whose time the curve sends nearest to j.
    qt, mt = FrameReader(clips["query"]).times, FrameReader(clips["match"]).times
    for j in (0, 10, 30, M_N - 1):
        q = res.source_frames[j]
        assert abs(curve(np.array([qt[q]]))[0] - mt[j]) <= 0.3
    assert (np.diff(res.source_frames) >= 0).all()


def test_side_by_side_pairs_each_query_frame_with_its_match(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "sbs.mp4"
    res = export_video(clips["query"], clips["match"], out, fmap, mode="side-by-side")
    assert res.size == (320, 120)
    assert _codes(out, (0, 0, 160, 120)) == list(range(Q_N))
    assert _codes(out, (160, 0, 160, 120)) == fmap.match_frame.tolist()
    assert probe(out, count_frames=True).frame_count == Q_N


def test_portrait_side_by_side_is_stacked(clips, tmp_path):
    qt, mt = FrameReader(clips["portrait"]).times, FrameReader(clips["match"]).times
    fmap = frame_map(WarpCurve(np.array([0.0, qt[-1]]), np.array([0.0, mt[-1]])), qt, mt)
    out = tmp_path / "stack.mp4"
    res = export_video(clips["portrait"], clips["match"], out, fmap, mode="side-by-side")
    assert res.size == (112, 160 + 84)  # match scaled to the query's width
    assert _codes(out, (0, 0, 112, 160)) == list(range(30))


def test_overlay_is_the_blend_of_the_mapped_frames(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "overlay.mp4"
    export_video(clips["query"], clips["match"], out, fmap, mode="overlay", audio="none")
    with FrameReader(out) as o, FrameReader(clips["query"]) as q, FrameReader(clips["match"]) as m:
        for i in (0, 17, Q_N - 1):
            expected = 0.5 * q.read(i).astype(float) + 0.5 * m.read(int(fmap.match_frame[i]))
            other = min(int(fmap.match_frame[i]) + 2, M_N - 1)
            other = other if other != fmap.match_frame[i] else int(fmap.match_frame[i]) - 2
            wrong = 0.5 * q.read(i).astype(float) + 0.5 * m.read(other)
            err = np.abs(o.read(i) - expected).mean()
            assert err < 3.0
            assert err < np.abs(o.read(i) - wrong).mean()


def test_burn_in_draws_labels(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    plain, burned = tmp_path / "plain.mp4", tmp_path / "burned.mp4"
    export_video(clips["query"], clips["match"], plain, fmap, mode="side-by-side", audio="none")
    export_video(clips["query"], clips["match"], burned, fmap, mode="side-by-side", burn_in=True)
    with FrameReader(plain) as a, FrameReader(burned) as b:
        diff = np.abs(a.read(5).astype(int) - b.read(5)).mean(axis=2)
    assert diff[:20, :60].mean() > 20  # the label box in the top left corner
    assert diff[60:, :].mean() < 2  # the rest (codes included) untouched
    assert _codes(burned, (160, 0, 160, 120)) == fmap.match_frame.tolist()


@pytest.mark.parametrize("audio", ["query", "match", "none"])
def test_audio_lasts_as_long_as_the_video(clips, tmp_path, audio):
    fmap, curve = _map(clips["query"], clips["match"])
    out = tmp_path / f"audio_{audio}.mp4"
    res = export_video(clips["query"], clips["match"], out, fmap, audio=audio, curve=curve)
    assert res.audio == audio
    samples, rate = _audio_samples(out)
    if audio == "none":
        assert samples == 0
        return
    video_s = Q_N / Q_FPS
    assert rate == SR
    assert abs(samples / rate - video_s) <= 1.0 / Q_FPS


def test_exported_match_audio_follows_the_warp(clips, tmp_path):
    # During the hold (query 0.8-1.2 s) the match stands still: its sound fades out.
    fmap, curve = _map(clips["query"], clips["match"])
    out = tmp_path / "hold.mp4"
    export_video(clips["query"], clips["match"], out, fmap, audio="match", curve=curve)
    with av.open(os.fspath(out)) as c:
        data = np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1)
    rms = [
        float(np.sqrt((data[0, int(a * SR) : int(b * SR)] ** 2).mean()))
        for a, b in ((0.3, 0.6), (0.9, 1.1), (1.8, 2.2))
    ]
    assert rms[0] > 0.15 and rms[2] > 0.15
    assert rms[1] < 0.02


def test_cancel_leaves_the_old_file_and_no_temporary(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"the good old export")
    token = CancelToken()

    def progress(done: int, total: int, message: str) -> None:
        if done >= 10:
            token.cancel()

    with pytest.raises(Cancelled):
        export_video(clips["query"], clips["match"], out, fmap, progress=progress, cancel=token)
    assert out.read_bytes() == b"the good old export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_failed_encode_leaves_the_old_file(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"old")
    with pytest.raises(EncoderUnavailableError, match="nonexistent"):
        export_video(
            clips["query"], clips["match"], out, fmap, options=EncodeOptions(codec="nonexistent")
        )
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_missing_h264_falls_back_to_a_real_encoder_and_says_so(clips, tmp_path, monkeypatch):
    monkeypatch.setattr(encode_module, "VIDEO_ENCODERS", ("libnotthere", "mpeg4"))
    fmap, _ = _map(clips["query"], clips["match"])
    out = tmp_path / "fallback.mp4"
    warnings: list[str] = []
    res = export_video(
        clips["query"], clips["match"], out, fmap, audio="none", on_warning=warnings.append
    )
    assert res.codec == "mpeg4" and probe(out).codec == "mpeg4"
    assert any("libnotthere" in w and "mpeg4" in w for w in warnings)
    assert _codes(out) == fmap.match_frame.tolist()


def test_bad_inputs_give_typed_errors(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    data = clips["match"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    text = tmp_path / "notes ü.mp4"
    text.write_text("not a video")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    out = tmp_path / "o.mp4"
    for bad, err in ((text, NotAVideoError), (empty, UnsupportedFileError)):
        with pytest.raises(err):
            export_video(clips["query"], bad, out, fmap)
    with pytest.raises((CorruptVideoError, InputError)):
        export_video(clips["query"], cut, out, fmap)
    with pytest.raises(UnsupportedFileError):
        export_video(tmp_path / "missing.mp4", clips["match"], out, fmap)
    with pytest.raises(InputError, match="rows"):
        export_video(clips["portrait"], clips["match"], out, fmap)  # a map of another query
    with pytest.raises(InputError, match="mode"):
        export_video(clips["query"], clips["match"], out, fmap, mode="sideways")
    with pytest.raises(InputError, match="audio"):
        export_video(clips["query"], clips["match"], out, fmap, audio="both")
    assert not out.exists()


def test_unwritable_targets_give_clear_errors(clips, tmp_path):
    fmap, _ = _map(clips["query"], clips["match"])
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    (tmp_path / "dir.mp4").mkdir()
    cases = {
        tmp_path / "no such folder" / "o.mp4": "does not exist",
        a_file / "o.mp4": "not a folder",
        tmp_path / "dir.mp4": "is a folder",
        tmp_path / "o.avi": "must be a",
        clips["query"]: "overwrite an input",
        Path("/proc/avr-export-test.mp4"): "cannot",
    }
    for target, message in cases.items():
        with pytest.raises(OutputPathError, match=message):
            export_video(clips["query"], clips["match"], target, fmap, audio="none")


@contextlib.contextmanager
def _folder_permissions_apply() -> Iterator[None]:
    """Make folder permission bits count for this process, even as root.

    The kernel ignores them for uid 0. :func:`os.access`, which the export's check uses,
    asks for the *real* uid, so as root the real uid becomes ``nobody`` for the block
    while the effective uid (reading the clips) stays root.
    """
    if os.geteuid() != 0:
        yield
        return
    os.setreuid(65534, -1)
    try:
        yield
    finally:
        os.setreuid(0, -1)


def test_read_only_folder_is_refused(clips):
    fmap, _ = _map(clips["query"], clips["match"])
    # Under the system temp folder, not tmp_path: an unprivileged uid must be able to
    # walk to the folders, so that only their own permission bits decide.
    base = Path(tempfile.mkdtemp(prefix="avr-perm-"))
    try:
        base.chmod(0o755)
        ro, rw = base / "ro", base / "rw"
        ro.mkdir()
        rw.mkdir()
        rw.chmod(0o777)
        ro.chmod(0o555 if os.geteuid() == 0 else 0o500)
        with _folder_permissions_apply():
            assert check_output(rw / "o.mp4") == rw / "o.mp4"  # the control: walkable
            with pytest.raises(OutputPathError, match="permission"):
                export_video(clips["query"], clips["match"], ro / "o.mp4", fmap)
        assert not any(ro.iterdir())
    finally:
        ro.chmod(0o700)
        shutil.rmtree(base)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_writes_a_playable_file_of_the_kept_clips_length(clips, tmp_path, mode):
    # Driven by MODES itself: a mode added later is exported here before it ships.
    fmap, curve = _map(clips["query"], clips["match"])
    out = tmp_path / f"{mode}.mp4"
    res = export_video(clips["query"], clips["match"], out, fmap, mode=mode, curve=curve)
    kept = clips["match"] if mode == "reverse" else clips["query"]
    info, kinfo = probe(out, count_frames=True), probe(kept, count_frames=True)
    assert info.frame_count == kinfo.frame_count == res.frame_count
    assert info.fps == pytest.approx(kinfo.fps)
    assert len(list(FrameReader(out).times)) == res.frame_count
