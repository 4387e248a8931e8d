"""Skeletons in exports: drawn where each clip's track says, on its own frames, in every mode.

Generated clips are flat dark frames; each pose track holds one bone (left shoulder to
left hip) that moves right at a known speed, with a stretch of samples without a
person. Every exported frame is decoded and the bone found on a known row, so a frame
drawn from the wrong time, at the wrong scale or in the wrong panel is caught.
The last tests run BlazePose on a real person through ``avr export --skeleton``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from avr_gui.cli import main
from avr_gui.core.demo.synth import write_video_av
from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.export import MODES, WarpCurve, export_video, frame_map
from avr_gui.core.features.pose import (
    PoseTrack,
    draw_skeleton,
    landmarks_at,
    skeleton_edges,
)
from avr_gui.core.features.pose.draw import MATCH_COLOUR, QUERY_COLOUR
from avr_gui.core.video import FrameReader
from avr_gui.core.video.decode import sample_frames

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[3] / "shared"
REAL = SHARED / "data" / "real"
BG = 20  # background grey: every drawn colour is far brighter
Q_SIZE, M_SIZE = (480, 360), (640, 480)
Q_FPS, M_FPS = 15.0, 25.0
SHOULDER, HIP = 11, 23
# Rows of the output picture that cross only the query's bone / only the match's bone.
Q_ROW = 70
M_ROW_FULL = 300  # match frame at full size (retimed)
M_ROW_SCALED = 225  # match scaled by 0.75 (side by side, overlay)


def q_x(t: np.ndarray) -> np.ndarray:
    """Query bone column (query pixels) at time t."""
    return 40.0 + 150.0 * np.asarray(t)


def m_x(t: np.ndarray) -> np.ndarray:
    """Match bone column (match video pixels) at time t."""
    return 60.0 + 200.0 * np.asarray(t)


def bone_track(
    x_of_t, y: tuple[float, float], size: tuple[int, int], factor: float, gap: range
) -> PoseTrack:
    """A 10 samples/s track of one vertical bone; samples in ``gap`` have no person.

    ``factor``: track pixels per video pixel (a track made on a larger picture).
    """
    ts = np.arange(20) / 10.0
    lm = np.zeros((20, 33, 3), np.float32)
    has = np.ones(20, bool)
    for k, t in enumerate(ts):
        if k in gap:
            has[k] = False
            continue
        x = float(x_of_t(t)) * factor
        lm[k, SHOULDER] = (x, y[0] * factor, 1.0)
        lm[k, HIP] = (x, y[1] * factor, 1.0)
    w, h = size
    return PoseTrack(
        lm, has, ts, np.arange(20, dtype=np.int64), (round(w * factor), round(h * factor))
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("skeleton clips ünï")
    q = np.full((30, Q_SIZE[1], Q_SIZE[0], 3), BG, np.uint8)
    m = np.full((50, M_SIZE[1], M_SIZE[0], 3), BG, np.uint8)
    write_video_av(d / "query.mp4", q, Q_FPS)
    write_video_av(d / "match clip.mp4", m, M_FPS)
    query_pose = bone_track(q_x, (40.0, 100.0), Q_SIZE, 1.0, range(8, 12))
    # Made on a picture twice the video's size: drawing must scale it down.
    match_pose = bone_track(m_x, (200.0, 400.0), M_SIZE, 2.0, range(14, 16))
    return {
        "dir": d,
        "query": d / "query.mp4",
        "match": d / "match clip.mp4",
        "query_pose": query_pose,
        "match_pose": match_pose,
    }


def _fmap(clips):
    with FrameReader(clips["query"]) as qr, FrameReader(clips["match"]) as mr:
        qt, mt = qr.times.copy(), mr.times.copy()
    curve = WarpCurve(np.array([0.0, 1.0, qt[-1]]), np.array([0.0, 0.5, mt[-1]]))
    return frame_map(curve, qt, mt), qt, mt


def find_bone(image: np.ndarray, row: int, x0: int = 0, x1: int | None = None):
    """Centre column of the bright pixels on ``row`` in [x0, x1), or None; and its BGR."""
    line = image[row, x0:x1].astype(np.int32)
    luma = line.mean(axis=1)
    hot = np.flatnonzero(luma > BG + 45)
    if hot.size == 0:
        return None, None
    centre = round(float(np.average(hot, weights=luma[hot] - BG)))
    return x0 + centre, line[centre]


def _is(colour_bgr: np.ndarray, reference: tuple[int, int, int]) -> bool:
    # H.264 halves the chroma of a 2 px line: compare which of blue and red dominates.
    b, _, r = (int(c) for c in colour_bgr)
    return (b > r) == (reference[0] > reference[2])


def _frames(path: Path) -> list[np.ndarray]:
    return [f.image for f in sample_frames(path, None)]


@pytest.mark.parametrize("mode", MODES)
def test_skeletons_follow_each_clip_in_every_mode(clips, tmp_path: Path, mode: str) -> None:
    fmap, qt, mt = _fmap(clips)
    out = tmp_path / f"{mode}.mp4"
    res = export_video(
        clips["query"],
        clips["match"],
        out,
        fmap,
        mode=mode,
        audio="none",
        skeleton=True,
        query_pose=clips["query_pose"],
        match_pose=clips["match_pose"],
    )
    frames = _frames(out)
    assert len(frames) == res.frame_count
    src = res.source_frames
    # Where each skeleton should be: its track at the time of the frame shown.
    q_times = qt[src] if mode == "reverse" else qt  # reverse shows query frames src
    q_lm, q_ok = landmarks_at(clips["query_pose"], q_times)
    expect_q = q_lm[:, SHOULDER, 0]
    m_ok = np.zeros(len(src), bool)
    expect_m = np.zeros(len(src))
    if mode != "reverse":
        m_lm, m_ok = landmarks_at(clips["match_pose"], mt[src])
        expect_m = m_lm[:, SHOULDER, 0] / 2.0  # the track was made at twice the size
    if mode == "retimed":
        q_ok = np.zeros(len(src), bool)
    # Away from the gaps and the end (no extrapolation past the last sample) that is
    # where the motion puts it: the right time was used.
    if mode != "retimed":
        ok = q_ok & (np.abs(q_times - 0.95) > 0.3) & (q_times <= 1.9)
        np.testing.assert_allclose(expect_q[ok], q_x(q_times[ok]), atol=1e-3)
    else:
        ok = m_ok & (np.abs(mt[src] - 1.45) > 0.2) & (mt[src] <= 1.9)
        np.testing.assert_allclose(expect_m[ok], m_x(mt[src][ok]), atol=1e-3)
    assert ok.sum() > len(src) // 3
    # Each track's gap shows up in the clip it belongs to.
    shown = q_ok | m_ok
    if mode != "retimed":
        assert (~q_ok).any() and q_ok.sum() > len(src) // 2
    if mode != "reverse":
        assert (~m_ok).any() and m_ok.sum() > len(src) // 2
    assert res.skeleton_frames == int(shown.sum())
    for i, image in enumerate(frames):
        if mode == "retimed":
            x, c = find_bone(image, M_ROW_FULL)
            assert (x is not None) == m_ok[i], i
            if m_ok[i]:
                assert abs(x - expect_m[i]) <= 2 and _is(c, MATCH_COLOUR), (i, x)
            continue
        if mode == "reverse":
            x, c = find_bone(image, Q_ROW)
            assert (x is not None) == q_ok[i], i
            if q_ok[i]:
                assert abs(x - expect_q[i]) <= 2 and _is(c, QUERY_COLOUR), (i, x)
            continue
        # Comparison modes: the query's bone in the query panel, the match's scaled
        # into the match panel (to the right side by side, on top in overlay).
        x, c = find_bone(image, Q_ROW, 0, Q_SIZE[0])
        assert (x is not None) == q_ok[i], i
        if q_ok[i]:
            assert abs(x - expect_q[i]) <= 2 and _is(c, QUERY_COLOUR), (i, x)
        left = Q_SIZE[0] if mode == "side-by-side" else 0
        x, c = find_bone(image, M_ROW_SCALED, left, left + Q_SIZE[0])
        assert (x is not None) == m_ok[i], i
        if m_ok[i]:
            assert abs(x - (left + 0.75 * expect_m[i])) <= 2 and _is(c, MATCH_COLOUR), (i, x)


def test_no_skeleton_unless_asked(clips, tmp_path: Path) -> None:
    fmap, _, _ = _fmap(clips)
    res = export_video(
        clips["query"],
        clips["match"],
        tmp_path / "plain.mp4",
        fmap,
        mode="side-by-side",
        audio="none",
        query_pose=clips["query_pose"],
        match_pose=clips["match_pose"],
    )
    assert res.skeleton_frames == 0
    for image in _frames(tmp_path / "plain.mp4"):
        assert int(image.max()) < BG + 45


def test_missing_or_foreign_tracks_are_clear_errors(clips, tmp_path: Path) -> None:
    fmap, _, _ = _fmap(clips)
    args = (clips["query"], clips["match"], tmp_path / "x.mp4", fmap)
    qp, mp = clips["query_pose"], clips["match_pose"]
    with pytest.raises(InputError, match="skeleton"):
        export_video(*args, mode="retimed", skeleton=True)
    with pytest.raises(InputError, match="match's pose track"):
        export_video(*args, mode="retimed", skeleton=True, query_pose=qp)
    with pytest.raises(InputError, match="query's pose track"):
        export_video(*args, mode="reverse", skeleton=True, match_pose=mp)
    with pytest.raises(InputError, match="query's pose track"):
        export_video(*args, mode="overlay", skeleton=True, match_pose=mp)
    # The query's track for the match (another picture shape), or a track too long.
    square = PoseTrack(mp.landmarks, mp.has_pose, mp.timestamps, mp.frame_indices, (100, 100))
    with pytest.raises(InputError, match="another video"):
        export_video(*args, mode="retimed", skeleton=True, match_pose=square)
    long = PoseTrack(mp.landmarks, mp.has_pose, mp.timestamps * 3, mp.frame_indices, mp.frame_size)
    with pytest.raises(InputError, match="another video"):
        export_video(*args, mode="retimed", skeleton=True, match_pose=long)
    assert not (tmp_path / "x.mp4").exists()  # refused before anything was written
    # Only the clip shown needs a track: the match alone for retimed.
    assert export_video(*args, mode="retimed", skeleton=True, match_pose=mp).skeleton_frames > 0


def test_draw_skeleton_rules() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    lm = np.zeros((33, 3), np.float32)
    lm[SHOULDER] = (50, 10, 0.9)
    lm[HIP] = (50, 90, 0.9)
    lm[12] = (150, 10, 0.4)  # right shoulder below the visibility threshold
    draw_skeleton(img, lm, colour=(0, 0, 255), thickness=2)
    assert img[50, 49:52, 2].max() == 255 and img[50, 49:52, :2].max() == 0
    assert img[:, 100:].max() == 0  # the shoulder line to an unseen joint is not drawn
    draw_skeleton(img, lm, colour=(255, 0, 0), min_visibility=0.3, thickness=1)
    assert img[10, 100, 0] > 0  # with a lower threshold it is
    # Scale and offset: a track made at 2x, drawn into a panel at x = 100.
    panel = np.zeros((100, 200, 3), np.uint8)
    draw_skeleton(panel, lm * (2, 2, 1), scale=(0.5, 0.5), offset=(100, 0), thickness=1)
    assert panel[50, 148:153].max() > 0 and panel[:, :140].max() == 0
    # Points far outside the picture and NaNs are skipped, not crashes.
    wild = lm.copy()
    wild[HIP] = (1e12, np.nan, 1.0)
    draw_skeleton(img, wild)
    assert sum(1 for a, b in skeleton_edges if {a, b} == {SHOULDER, HIP}) == 1
    with pytest.raises(ShapeError):
        draw_skeleton(img, np.zeros((17, 3)))
    with pytest.raises(ShapeError):
        draw_skeleton(np.zeros((10, 10), np.uint8), lm)
    ro = np.zeros((10, 10, 3), np.uint8)
    ro.setflags(write=False)
    with pytest.raises(InputError, match="writable"):
        draw_skeleton(ro, lm)


def test_landmarks_at_interpolates_and_respects_gaps() -> None:
    track = bone_track(q_x, (40.0, 100.0), Q_SIZE, 1.0, range(8, 12))
    t = np.array([0.0, 0.05, 0.1, 0.74, 0.76, 1.14, 1.24, 1.9, 1.95, 2.2, -0.2, np.nan])
    lm, ok = landmarks_at(track, t)
    assert "".join("x" if v else "." for v in ok) == "xxxx..xxx..."
    # Between two samples with a person: interpolated; beside a gap or past the end: the
    # nearest sample as it is.
    inside = np.array([0, 1, 2, 6, 7])
    np.testing.assert_allclose(lm[inside, SHOULDER, 0], q_x(t[inside]), atol=1e-3)
    assert lm[3, SHOULDER, 0] == pytest.approx(q_x(0.7))
    assert lm[8, SHOULDER, 0] == pytest.approx(q_x(1.9))
    assert (lm[~ok] == 0).all()
    # Between samples the visibility is the lower of the two (a joint must be seen in both).
    track.landmarks[3, HIP, 2] = 0.2
    lm, ok = landmarks_at(track, np.array([0.25, 0.3]))
    assert lm[0, HIP, 2] == pytest.approx(0.2) and lm[1, HIP, 2] == pytest.approx(0.2)
    # A long gap between samples is not bridged.
    sparse = PoseTrack(
        track.landmarks[[0, 1, 2, 3, 19]],
        np.ones(5, bool),
        np.array([0.0, 0.1, 0.2, 0.3, 1.9]),
        np.arange(5, dtype=np.int64),
        track.frame_size,
    )
    _, ok = landmarks_at(sparse, np.array([0.05, 1.0, 1.85]))
    assert ok.tolist() == [True, False, True]
    empty = PoseTrack(
        np.zeros((0, 33, 3), np.float32),
        np.zeros(0, bool),
        np.zeros(0),
        np.zeros(0, np.int64),
        (10, 10),
    )
    lm, ok = landmarks_at(empty, np.array([0.0, 1.0]))
    assert lm.shape == (2, 33, 3) and not ok.any()


# -- a real person through the command line --------------------------------------------


@pytest.fixture(scope="module")
def person(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.5 s of ``pushup.mp4`` at 480 px, as an H.264 file."""
    src = REAL / "pushup.mp4"
    if not src.exists():
        pytest.skip(f"{src} missing (evaluation data not present)")
    frames = []
    for f in sample_frames(src, None, size=480):
        if f.time >= 1.5:
            break
        frames.append(f.image)
    dst = tmp_path_factory.mktemp("person") / "push up ü.mp4"
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 480, 270, "yuv420p"
        for i, image in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return dst


def test_cli_export_skeleton_on_a_real_person(
    person: Path, pose_models: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(pose_models))
    other = tmp_path / "copy.mp4"
    shutil.copyfile(person, other)
    out = tmp_path / "sbs.mp4"
    argv = ["export", str(person), str(other), "--out", str(out), "--mode", "side-by-side"]
    argv += ["--backend", "pose-blazepose", "--skeleton", "--audio", "none", "--json"]
    argv += ["--map", str(tmp_path / "map.json")]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["skeleton_frames"] == summary["frames"] == 36
    # A person's skeleton: query colour in the left panel, match colour in the right.
    image = _frames(out)[10].astype(np.int32)
    b, r = image[..., 0], image[..., 2]
    orange = (r > 200) & (b < 80)
    blue = (b > 200) & (r < 80)
    assert orange[:, :480].sum() > 50 and orange[:, 480:].sum() < 5
    assert blue[:, 480:].sum() > 50
    # The stored map is reused; the poses then come from BlazePose all the same.
    plain = tmp_path / "plain.mp4"
    argv = ["export", str(person), str(other), "--out", str(plain), "--skeleton"]
    argv += ["--map", str(tmp_path / "map.json"), "--audio", "none", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["map_reused"] and summary["skeleton_frames"] == 36


def test_cli_export_skeleton_without_models(
    clips, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "no models"))
    argv = ["export", str(clips["query"]), str(clips["match"]), "--out", str(tmp_path / "o.mp4")]
    assert main([*argv, "--backend", "pose-blazepose", "--skeleton"]) == 2
    assert "avr models install pose" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()
