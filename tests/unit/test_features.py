"""Encoders and the registry, with the real packaged weights and real model files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp
from avr_gui.core.errors import InputError
from avr_gui.core.features import BACKENDS, WeightsError, get_encoder
from avr_gui.core.features.efficientnet import EfficientNetLite0
from avr_gui.core.features.encoders import packaged_lite0_weights

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return list(render_frames(0, speed_warp(12, (1.0,)), (200, 150), ClipStyle(seed=3)))


@pytest.fixture(scope="module")
def lite0():
    return get_encoder("effnet-lite0")


def test_registry_lists_every_backend_with_availability():
    assert set(BACKENDS) >= {"thumb16", "effnet-lite0", "torchscript", "onnx"}
    for backend in BACKENDS.values():
        ok, why = backend.availability()
        if backend.name.startswith("pose-") and not ok:
            # Pose models are an explicit download; the reason must say how to get them
            # (or, for MoveNet, that it needs the user's own file).
            assert "avr models install pose" in why or "--weights" in why, why
            continue
        assert ok, f"{backend.name}: {why}"


def test_thumbnail_encoder(frames):
    enc = get_encoder("thumb16")
    out = enc.encode(frames)
    assert out.shape == (12, enc.dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_lite0_packaged_weights_load_strictly_and_encode(lite0, frames):
    out = lite0.encode(frames)
    assert out.shape == (12, 1280) and out.dtype == np.float32
    assert np.isfinite(out).all() and (out >= 0).all()  # ReLU6 then average: non-negative
    # Deterministic, batch-independent.
    np.testing.assert_allclose(lite0.encode(frames[:3]), out[:3], rtol=1e-4, atol=1e-5)
    assert lite0.version.startswith("effnet-lite0-") and "224-avg" in lite0.version
    assert lite0.device == "cpu" or lite0.device.startswith("cuda")


def test_lite0_frames_of_one_clip_differ_by_motion(lite0):
    # Action 2 travels left to right: its first and last frames are far apart.
    clip = render_frames(2, speed_warp(12, (1.0,)), (200, 150), ClipStyle(seed=3))
    out = lite0.encode(list(clip))
    # Consecutive frames are closer than frames at opposite ends of the action.
    d = lambda a, b: float(np.linalg.norm(out[a] - out[b]))  # noqa: E731
    assert d(0, 1) < d(0, 11)


def test_avgmax_pooling_doubles_the_dimension(frames):
    enc = get_encoder("effnet-lite0", pooling="avgmax", size=96)
    assert enc.encode(frames[:2]).shape == (2, 2560)
    with pytest.raises(InputError):
        get_encoder("effnet-lite0", pooling="median")
    with pytest.raises(InputError):
        get_encoder("effnet-lite0", size=8)


@pytest.mark.skipif(not (REAL / "juggling1.mp4").exists(), reason="needs ../shared/data/real")
@pytest.mark.slow
def test_lite0_recognises_a_football_in_a_real_juggling_clip():
    import cv2

    from avr_gui.core.features.encoders import _rgb_batch

    cap = cv2.VideoCapture(str(REAL / "juggling1.mp4"))
    ok, img = cap.read()
    cap.release()
    assert ok
    net = EfficientNetLite0()
    net.load_state_dict(torch.load(packaged_lite0_weights(), weights_only=True))
    net.eval()
    x = torch.from_numpy(_rgb_batch([img], 224) * 2 - 1)
    with torch.no_grad():
        top = int(net(x).argmax())
    assert top == 805  # ImageNet "soccer ball": the weights and preprocessing are right


def test_user_state_dict_and_fallback(tmp_path, frames, lite0):
    sd = torch.load(packaged_lite0_weights(), weights_only=True)
    mine = tmp_path / "my lite0 ✓.pth"
    torch.save(sd, mine)
    enc = get_encoder("effnet-lite0", weights=mine)
    np.testing.assert_allclose(enc.encode(frames[:2]), lite0.encode(frames[:2]), rtol=1e-5)
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not an EfficientNet-Lite0 state dict"):
        get_encoder("effnet-lite0", weights=bad)
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong)
    with pytest.raises(WeightsError, match="Missing key"):
        get_encoder("effnet-lite0", weights=wrong)
    notes: list[str] = []
    enc = get_encoder("effnet-lite0", weights=bad, on_fallback=notes.append)
    assert len(notes) == 1 and "packaged ImageNet weights" in notes[0]
    assert enc.version == lite0.version


class _Tiny(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(x, 8)  # [B, 3, S/8, S/8]: pooled by us


def test_torchscript_model_file(tmp_path, frames):
    path = tmp_path / "tiny.pt"
    torch.jit.script(_Tiny()).save(str(path))
    enc = get_encoder("torchscript", weights=path, size=32)
    out = enc.encode(frames[:4])
    assert out.shape == (4, 3) and enc.dim == 3
    # Mean colour of the frame, RGB in [0, 1]: check against numpy.
    import cv2

    ref = cv2.cvtColor(
        cv2.resize(frames[0], (32, 32), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB
    )
    np.testing.assert_allclose(out[0], ref.reshape(-1, 3).mean(0) / 255, rtol=1e-4)
    with pytest.raises(WeightsError, match="TorchScript"):
        get_encoder("torchscript", weights=tmp_path / "missing.pt")
    with pytest.raises(InputError, match="--weights"):
        get_encoder("torchscript")


def test_onnx_model_file(tmp_path, frames):
    pytest.importorskip("onnx")
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(
        torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()),
        torch.zeros(1, 3, 32, 32),
        str(path),
        input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
        dynamo=False,
    )
    enc = get_encoder("onnx", weights=path, size=32)
    ts = tmp_path / "tiny.pt"
    torch.jit.script(_Tiny()).save(str(ts))
    ref = get_encoder("torchscript", weights=ts, size=32).encode(frames[:3])
    np.testing.assert_allclose(enc.encode(frames[:3]), ref, rtol=1e-4, atol=1e-6)
    junk = tmp_path / "junk.onnx"
    junk.write_text("nope")
    with pytest.raises(WeightsError, match="ONNX"):
        get_encoder("onnx", weights=junk)


def test_unknown_backend_and_bad_frames():
    with pytest.raises(InputError, match="unknown feature backend"):
        get_encoder("resnet9000")
    enc = get_encoder("effnet-lite0", size=64)
    with pytest.raises(InputError, match=r"\[H, W, 3\]"):
        enc.encode([np.zeros((10, 10), np.uint8)])
    assert enc.encode([]).shape == (0, 1280)


def test_encode_video_follows_source_frames_and_reports_damage(tmp_path):
    from avr_gui.core.demo.synth import write_video_av
    from avr_gui.core.features import encode_video
    from avr_gui.core.jobs import Cancelled, CancelToken

    clip = render_frames(0, speed_warp(45, (1.0,)), (160, 120), ClipStyle(seed=2), code=True)
    mkv = tmp_path / "clip ✓.mkv"
    write_video_av(mkv, clip, 15.0, codec="libx264", gop=5)
    enc = get_encoder("thumb16")
    seq = encode_video(mkv, enc, fps=5.0)
    np.testing.assert_array_equal(seq.frame_indices, np.arange(15) * 3)
    np.testing.assert_allclose(seq.timestamps, np.arange(15) / 5.0, atol=1e-3)
    assert seq.encoder == "thumb16" and seq.features.shape == (15, 256)

    data = mkv.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    notes: list[str] = []
    part = encode_video(cut, enc, fps=15.0, on_warning=notes.append)
    assert 0 < part.features.shape[0] < 45
    assert notes, "a damaged file must be reported"

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        encode_video(mkv, enc, fps=15.0, cancel=token)
