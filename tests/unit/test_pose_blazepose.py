"""BlazePose and MoveNet on real frames: detection, tracking, no person, two people, I/O."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import render_frames, write_video
from avr_gui.core.errors import (
    CorruptVideoError,
    InputError,
    UnsupportedFileError,
    VideoError,
)
from avr_gui.core.features import get_encoder
from avr_gui.core.features.encoders import ThumbnailEncoder, WeightsError
from avr_gui.core.features.pose import (
    BlazePose,
    FusedEncoder,
    MoveNet,
    PoseEncoder,
    encode_pose_video,
    has_pose_mask,
    load_pose_track,
    mirror_features,
    save_pose_track,
)
from avr_gui.core.features.pose.models import (
    BLAZEPOSE_FILES,
)
from avr_gui.core.features.pose.normalize import HAS_POSE_COLUMN, POSE_DIM
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.video._cv2 import import_cv2
from avr_gui.core.video.decode import sample_frames
from avr_gui.core.video.probe import probe

SHARED = Path(__file__).resolve().parents[3] / "shared"
REAL = SHARED / "data" / "real"
MOVENET = SHARED / "models" / "movenet_lightning_int8_4.tflite"
SHOULDERS, HIPS = [11, 12], [23, 24]
cv2 = import_cv2()


@pytest.fixture(scope="module")
def blazepose(pose_models: Path) -> BlazePose:
    return BlazePose(pose_models, num_threads=2)


def _real(name: str, n: int, start: int = 0) -> list[np.ndarray]:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} missing (evaluation data not present)")
    out = []
    for k, f in enumerate(sample_frames(path, 10.0, size=640)):
        if k >= start:
            out.append(f.image)
        if len(out) == n:
            break
    return out


def _no_person(n: int, size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    return list(render_frames(2, np.linspace(0.0, 1.0, n), size))


def _hip_centre(lm: np.ndarray) -> np.ndarray:
    return lm[..., HIPS, :2].mean(axis=-2)


def test_detects_and_tracks_a_real_person(blazepose: BlazePose) -> None:
    frames = _real("pushup.mp4", 15)
    blazepose.reset()
    runs = blazepose.detector_runs
    r = blazepose.estimate(frames)
    assert r.has_pose.all()
    # One detection, then the landmarks carry the region from frame to frame.
    assert blazepose.detector_runs - runs == 1
    assert r.landmarks.shape == (15, 33, 3)
    h, w = frames[0].shape[:2]
    torso = r.landmarks[:, SHOULDERS + HIPS]
    assert (torso[..., 2] > 0.5).all()
    assert (torso[..., 0] > 0).all() and (torso[..., 0] < w).all()
    assert (torso[..., 1] > 0).all() and (torso[..., 1] < h).all()
    # The landmarks sit on the person the detector boxed.
    box = blazepose.detect(frames[0]).boxes[0]
    hc = _hip_centre(r.landmarks[0])
    assert box[0] - 20 < hc[0] < box[2] + 20
    # A push-up filmed head-on: the hands are on the ground, below the shoulders.
    assert (
        r.landmarks[:, [15, 16], 1].min(axis=1) > r.landmarks[:, SHOULDERS, 1].max(axis=1)
    ).all()


def test_person_leaves_and_returns(blazepose: BlazePose) -> None:
    person = _real("juggling2.mp4", 10)
    blank = _no_person(5, (person[0].shape[1], person[0].shape[0]))
    frames = person[:5] + blank + person[5:]
    blazepose.reset()
    r = blazepose.estimate(frames)
    np.testing.assert_array_equal(r.has_pose, [True] * 5 + [False] * 5 + [True] * 5)
    assert (r.landmarks[5:10] == 0).all()
    # On return the person is found at once, where a fresh start finds them.
    blazepose.reset()
    fresh = blazepose.estimate(person[5:6])
    np.testing.assert_allclose(
        _hip_centre(r.landmarks[10]), _hip_centre(fresh.landmarks[0]), atol=8.0
    )


def test_frames_without_a_person(blazepose: BlazePose, pose_models: Path) -> None:
    frames = [
        *_no_person(6),
        np.zeros((360, 640, 3), np.uint8),
        np.full((90, 90, 3), 255, np.uint8),
    ]
    blazepose.reset()
    r = blazepose.estimate(frames)
    assert not r.has_pose.any()
    assert (r.landmarks == 0).all()
    enc = PoseEncoder(BlazePose(pose_models))
    f = enc.encode(frames)
    assert f.shape == (8, POSE_DIM) and (f == 0).all() and not has_pose_mask(f).any()
    assert enc.encode([]).shape == (0, POSE_DIM)
    with pytest.raises(InputError):
        blazepose.process(np.zeros((10, 10), np.uint8))


def test_two_people_main_person_is_tracked(blazepose: BlazePose) -> None:
    big = _real("golf_swing.mp4", 8)  # portrait, one large golfer
    small = _real("juggling1.mp4", 8)  # portrait too
    h = big[0].shape[0]
    frames = []
    for a, b in zip(big, small, strict=True):
        # Shrink the juggler so the golfer is clearly the main (largest) person.
        s = cv2_resize(b, int(0.8 * h))
        pad = np.zeros((h, s.shape[1], 3), np.uint8)
        pad[h - s.shape[0] :] = s
        frames.append(np.ascontiguousarray(np.hstack([pad, a])))
    split = frames[0].shape[1] - big[0].shape[1]
    assert len(blazepose.detect(frames[0])) >= 2
    blazepose.reset()
    r = blazepose.estimate(frames)
    assert r.has_pose.all()
    hc = _hip_centre(r.landmarks)
    assert (hc[:, 0] > split).all(), "the golfer (largest body) is the main person throughout"
    # Same result as the golfer alone, shifted by the juggler's strip.
    blazepose.reset()
    alone = blazepose.estimate(big)
    np.testing.assert_allclose(hc[:, 0] - split, _hip_centre(alone.landmarks)[:, 0], atol=12.0)


def cv2_resize(img: np.ndarray, height: int) -> np.ndarray:
    import cv2

    w = round(img.shape[1] * height / img.shape[0])
    return cv2.resize(img, (w, height), interpolation=cv2.INTER_AREA)


def test_encode_video_landmarks_in_source_pixels(pose_models: Path, tmp_path: Path) -> None:
    path = REAL / "juggling1.mp4"  # 720 x 1366 portrait, decoded at 640 px for pose
    if not path.exists():
        pytest.skip(f"{path} missing")
    enc = get_encoder("pose-blazepose", weights=pose_models)
    seq, track = encode_pose_video(path, enc)
    info = probe(path)
    assert track.frame_size == (info.width, info.height)
    assert seq.features.shape == (len(track.timestamps), POSE_DIM)
    np.testing.assert_array_equal(seq.timestamps, track.timestamps)
    np.testing.assert_array_equal(track.has_pose, has_pose_mask(seq.features))
    assert track.has_pose.mean() > 0.9
    # Compare with BlazePose run on full-resolution frames: same points, in source pixels.
    full = [f.image for f in sample_frames(path, 10.0)][:3]
    assert full[0].shape[:2] == (info.height, info.width)
    ref = BlazePose(pose_models).estimate(full)
    err = np.abs(_hip_centre(track.landmarks[:3]) - _hip_centre(ref.landmarks))
    assert err.max() < 0.03 * info.height
    # Stored beside the features, read back exactly; no pickle involved.
    out = tmp_path / "trâck ü.npz"
    save_pose_track(out, track)
    back = load_pose_track(out)
    np.testing.assert_array_equal(back.landmarks, track.landmarks)
    np.testing.assert_array_equal(back.has_pose, track.has_pose)
    assert back.frame_size == track.frame_size and back.backend == "pose-blazepose"
    with pytest.raises(OSError):
        save_pose_track(tmp_path / "no such dir" / "t.npz", track)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(UnsupportedFileError):
        load_pose_track(junk)


def test_encode_video_bad_input_unicode_and_cancel(pose_models: Path, tmp_path: Path) -> None:
    enc = PoseEncoder(BlazePose(pose_models))
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises((VideoError, UnsupportedFileError)):
        encode_pose_video(corrupt, enc)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedFileError):
        encode_pose_video(empty, enc)
    clip = tmp_path / "vidéo sans personne 動画.mp4"
    write_video(clip, render_frames(1, np.linspace(0, 1, 24), (320, 240)), 24.0)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(CorruptVideoError):
        encode_pose_video(truncated, enc)
    seq, track = encode_pose_video(clip, enc)
    assert len(track.has_pose) == 10 and not track.has_pose.any()
    assert (seq.features == 0).all()
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        encode_pose_video(clip, enc, cancel=token)
    with pytest.raises(InputError):
        encode_pose_video(clip, ThumbnailEncoder())  # type: ignore[arg-type]


def test_mirror_option(pose_models: Path) -> None:
    frames = _real("golf_swing.mp4", 4)
    plain = PoseEncoder(BlazePose(pose_models)).encode(frames)
    mirrored = PoseEncoder(BlazePose(pose_models), mirror=True)
    m = mirrored.encode(frames)
    np.testing.assert_allclose(m, mirror_features(plain), atol=1e-6)
    assert mirrored.version != PoseEncoder(BlazePose(pose_models)).version


def test_fused_encoder_weights_and_fallback(pose_models: Path) -> None:
    frames = _real("pushup.mp4", 4) + _no_person(2)
    pose = PoseEncoder(BlazePose(pose_models))
    app = ThumbnailEncoder()
    w = 0.7
    fused = FusedEncoder(pose, app, pose_weight=w)
    f = fused.encode(frames)
    assert f.shape == (6, POSE_DIM + app.dim)
    np.testing.assert_array_equal(has_pose_mask(f), [True] * 4 + [False] * 2)
    p = PoseEncoder(BlazePose(pose_models)).encode(frames)[:, :HAS_POSE_COLUMN]
    a = app.encode(frames)

    def cos(x: np.ndarray, y: np.ndarray) -> float:
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))

    # Without the flag column, the fused cosine is the weighted sum of the two cosines.
    g = np.delete(f, HAS_POSE_COLUMN, axis=1)
    expect = w * cos(p[0], p[3]) + (1 - w) * cos(a[0], a[3])
    assert cos(g[0], g[3]) == pytest.approx(expect, abs=1e-5)
    # A frame without a person is its appearance alone, at full weight.
    assert (f[4, :POSE_DIM] == 0).all()
    np.testing.assert_allclose(np.linalg.norm(f[4]), 1.0, atol=1e-5)
    np.testing.assert_allclose(f[4, POSE_DIM:], a[4] / np.linalg.norm(a[4]), atol=1e-5)
    with pytest.raises(InputError):
        FusedEncoder(pose, app, pose_weight=1.5)


@pytest.mark.skipif(not MOVENET.exists(), reason=f"{MOVENET} missing (test model)")
def test_movenet_user_model(blazepose: BlazePose, pose_models: Path, tmp_path: Path) -> None:
    frames = _real("golf_swing.mp4", 6)
    mn = MoveNet(MOVENET, num_threads=2)
    r = mn.estimate(frames + _no_person(2, (354, 492)))
    np.testing.assert_array_equal(r.has_pose, [True] * 6 + [False] * 2)
    blazepose.reset()
    ref = blazepose.estimate(frames)
    # Both models put the hips at the same place (within 5 % of the frame height).
    err = np.abs(_hip_centre(r.landmarks[:6]) - _hip_centre(ref.landmarks))
    assert err.max() < 0.05 * frames[0].shape[0]
    enc = get_encoder("pose-movenet", weights=MOVENET)
    assert enc.encode(frames).shape == (6, POSE_DIM)
    with pytest.raises(InputError, match="--weights"):
        get_encoder("pose-movenet")
    with pytest.raises(WeightsError, match="MoveNet"):
        MoveNet(pose_models / BLAZEPOSE_FILES[0].name)
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(WeightsError, match="not a loadable"):
        MoveNet(bogus)


def test_landmark_graph_cut_down_keeps_the_landmarks(
    blazepose: BlazePose, pose_models: Path
) -> None:
    # The default landmark model computes only the landmarks and the presence score;
    # the whole graph (mask, heatmap, world landmarks too) must give the same numbers.
    assert blazepose._landmarker.pruned
    assert sorted(int(np.prod(o["shape"])) for o in blazepose._landmarker.outputs) == [1, 195]
    whole = BlazePose(pose_models, num_threads=2, full_graph=True)
    assert not whole._landmarker.pruned and len(whole._landmarker.outputs) == 5
    frames = _real("pushup2.mp4", 12)
    blazepose.reset()
    a = blazepose.estimate(frames)
    b = whole.estimate(frames)
    assert a.has_pose.all()
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.has_pose, b.has_pose)


def test_prune_outputs_declines_what_it_cannot_cut(
    pose_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from avr_gui.core.features.pose import _litert
    from avr_gui.core.features.pose._litert import TfliteModel, prune_outputs

    model = (pose_models / BLAZEPOSE_FILES[1].name).read_bytes()
    assert prune_outputs(model, {7}) is None  # no output of that size
    assert prune_outputs(model, {195, 1, 117, 256 * 256, 64 * 64 * 39}) is None  # all kept
    assert prune_outputs(b"not a model", {195}) is None
    cut = prune_outputs(model, {195})
    assert cut is not None and len(cut) < len(model)
    # A model that cannot be cut down runs whole but still returns only what was asked.
    monkeypatch.setattr(_litert, "prune_outputs", lambda model, keep: None)
    det = TfliteModel(pose_models / BLAZEPOSE_FILES[0].name, 1, keep={2254})
    assert not det.pruned
    assert [o.size for o in det.run(np.zeros(det.input_shape, np.float32))] == [2254]


def test_scene_cut_drops_the_track(blazepose: BlazePose) -> None:
    first = _real("pushup.mp4", 4)
    h, w = first[0].shape[:2]
    # Another shot of the same size: only the thumbnail change can tell it is a cut.
    second = [np.ascontiguousarray(cv2.resize(f, (w, h))) for f in _real("juggling2.mp4", 4)]
    blazepose.reset()
    runs = blazepose.detector_runs
    r = blazepose.estimate(first + second)
    assert r.has_pose.all()
    assert blazepose.detector_runs - runs == 2  # the first frame and the cut
