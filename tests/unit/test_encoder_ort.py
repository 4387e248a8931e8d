"""EfficientNet-Lite0 on ONNX Runtime: the same features as torch, the cached graph
file (atomic, reused, rebuilt when damaged), and pose beside appearance in ``auto``."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.errors import InputError
from avr_gui.core.features import encoders as enc_mod
from avr_gui.core.features import onnx_runtime as ortl
from avr_gui.core.features.base import Encoder
from avr_gui.core.features.encoders import RUNTIME_ENV, EfficientNetEncoder, ThumbnailEncoder
from avr_gui.core.features.pose.blazepose import PoseBatch
from avr_gui.core.features.pose.encoder import APPEARANCE_THREAD, FusedEncoder, PoseEncoder
from avr_gui.core.video.decode import sample_frames

# float16, as the library stores features: 11 significant bits, and a step of 2**-24
# below its smallest normal number 2**-14.
F16_REL = 2.0**-11
F16_ABS = 2.0**-14


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test builds its graphs in a cache folder of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(RUNTIME_ENV, raising=False)
    return tmp_path / "cache" / "avr-studio" / "onnx"


@pytest.fixture(scope="module")
def decoded(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """Frames of a generated clip, encoded to H.264 and decoded as the indexer does."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, render_frames(0, speed_warp(40, (1.0,)), (320, 240), ClipStyle(seed=5)), 20)
    frames = [f.image for f in sample_frames(path, 10.0, size=448)]
    assert len(frames) >= 15
    return frames


@pytest.fixture(scope="module")
def torch_lite0() -> EfficientNetEncoder:
    return EfficientNetEncoder(runtime="torch", device="cpu")


def _cached(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.onnx")) if folder.exists() else []


def test_ort_features_equal_torch_within_float16_rounding(decoded, torch_lite0, _own_cache):
    ort_enc = EfficientNetEncoder(device="cpu")  # the CPU default
    assert ort_enc.runtime == "onnxruntime" and torch_lite0.runtime == "torch"
    assert ort_enc.version == torch_lite0.version  # libraries keep their features
    a = ort_enc.encode(decoded)
    b = torch_lite0.encode(decoded)
    assert a.shape == b.shape == (len(decoded), 1280) and a.dtype == np.float32
    assert np.all(np.abs(a - b) <= np.maximum(np.abs(b) * F16_REL, F16_ABS))
    # The same holds for every batch split (the graph's batch axis is free).
    np.testing.assert_allclose(ort_enc.encode(decoded[:3]), a[:3], rtol=1e-5, atol=1e-6)
    assert ort_enc.encode([]).shape == (0, 1280)


def test_avgmax_and_other_sizes_match_torch(decoded):
    for size, pooling in ((96, "avgmax"), (160, "avg")):
        a = EfficientNetEncoder(size=size, pooling=pooling, device="cpu").encode(decoded[:4])
        on_torch = EfficientNetEncoder(size=size, pooling=pooling, runtime="torch", device="cpu")
        b = on_torch.encode(decoded[:4])
        assert a.shape == b.shape == (4, 1280 * (2 if pooling == "avgmax" else 1))
        assert np.all(np.abs(a - b) <= np.maximum(np.abs(b) * F16_REL, F16_ABS))


def test_graph_is_cached_atomically_and_reused(decoded, _own_cache, monkeypatch):
    writes: list[Path] = []
    real_write = ortl.write_bytes

    def spy(target, data):
        writes.append(Path(target))
        real_write(target, data)

    monkeypatch.setattr(ortl, "write_bytes", spy)
    first = EfficientNetEncoder(device="cpu")
    files = _cached(_own_cache)
    assert len(files) == 1 and first.model_file == files[0] and writes == files
    # Nothing but the finished file: the atomic writer's temporary is gone.
    assert [p.name for p in _own_cache.iterdir()] == [files[0].name]

    def no_torch(path: Path) -> object:
        raise AssertionError("the cached graph should have been used")

    monkeypatch.setattr(enc_mod, "_load_lite0", no_torch)
    second = EfficientNetEncoder(device="cpu")
    assert second.model_file == files[0] and len(writes) == 1
    np.testing.assert_array_equal(second.encode(decoded[:2]), first.encode(decoded[:2]))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_damaged_cached_graph_is_rebuilt(decoded, _own_cache, damage):
    good = EfficientNetEncoder(device="cpu")
    ref = good.encode(decoded[:2])
    path = good.model_file
    assert path is not None
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an onnx file")
    else:  # one weight changed: still a loadable graph, but not the one that was built
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        path.write_bytes(bytes(flipped))
    again = EfficientNetEncoder(device="cpu")
    assert again.model_file is not None and again.model_file.read_bytes() == data
    assert _cached(_own_cache) == [again.model_file]
    np.testing.assert_array_equal(again.encode(decoded[:2]), ref)


def test_unwritable_cache_runs_from_memory(decoded, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    enc = EfficientNetEncoder(device="cpu")
    assert enc.model_file is None
    assert enc.encode(decoded[:2]).shape == (2, 1280)


def test_runtime_choice(monkeypatch):
    with pytest.raises(InputError, match="runtime must be one of"):
        EfficientNetEncoder(runtime="tensorflow")
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    assert EfficientNetEncoder().runtime == "torch"
    assert EfficientNetEncoder(runtime="onnxruntime").runtime == "onnxruntime"


def test_threads_option():
    assert EfficientNetEncoder(threads=1, device="cpu")._session.threads == 1
    assert EfficientNetEncoder(device="cpu")._session.threads == ortl.default_threads()


# ------------------------------------------------------- pose beside appearance


class _FakeEstimator:
    """Landmarks from the mean colour, so every frame gets its own pose."""

    name = "fake"

    def __init__(self, file: Path) -> None:
        self.files = (file,)

    def estimate(self, frames: Sequence[np.ndarray]) -> PoseBatch:
        lm = np.zeros((len(frames), 33, 3), np.float32)
        for k, f in enumerate(frames):
            rng = np.random.default_rng(int(f.mean() * 1000))
            lm[k, :, :2] = rng.uniform(0, 100, (33, 2))
            lm[k, :, 2] = 1.0
        return PoseBatch(lm, np.ones(len(frames), bool))

    def reset(self) -> None:
        pass


class _Failing(Encoder):
    name = "failing"
    version = "failing-v1"
    dim = 256

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        raise RuntimeError("appearance broke")


def _fused(tmp_path: Path, appearance: Encoder) -> FusedEncoder:
    model = tmp_path / "fake.bin"
    model.write_bytes(b"fake pose model")
    return FusedEncoder(PoseEncoder(_FakeEstimator(model)), appearance)


def test_fused_runs_pose_beside_appearance_with_the_same_result(decoded, tmp_path):
    import threading

    seen: list[str] = []

    class Spy(ThumbnailEncoder):
        def encode(self, frames):
            seen.append(threading.current_thread().name)
            return super().encode(frames)

    fused = _fused(tmp_path, Spy())
    assert fused.concurrent
    side_by_side = fused.encode(decoded)
    fused.concurrent = False
    one_after_other = fused.encode(decoded)
    np.testing.assert_array_equal(side_by_side, one_after_other)
    assert seen[0].startswith(APPEARANCE_THREAD) and seen[1] == threading.current_thread().name
    assert fused.pose.last_batch is not None and fused.pose.last_batch.landmarks.shape[0] == len(
        decoded
    )
    # One long-lived thread serves every batch, and it ends with the encoder.
    fused.concurrent = True
    fused.encode(decoded[:3])
    assert seen[2] == seen[0]
    workers = [t for t in threading.enumerate() if t.name.startswith(APPEARANCE_THREAD)]
    assert len(workers) == 1
    del fused
    gc.collect()
    workers[0].join(timeout=10)
    assert not workers[0].is_alive()


def test_fused_appearance_error_reaches_the_caller(decoded, tmp_path):
    fused = _fused(tmp_path, _Failing())
    with pytest.raises(RuntimeError, match="appearance broke"):
        fused.encode(decoded[:3])


def test_graphs_of_older_code_are_removed(tmp_path):
    folder = tmp_path / "onnx"
    folder.mkdir()
    older = folder / "effnet-lite0-abc-avg-g0.0123456789abcdef.onnx"
    older.write_bytes(b"an older graph")
    other_weights = folder / "effnet-lite0-def-avg-g0.0123456789abcdef.onnx"
    other_weights.write_bytes(b"another weights file's graph")
    data, path = ortl.cached_graph("abc", "avg", lambda: b"graph bytes", folder=folder)
    assert data == b"graph bytes" and path is not None and path.read_bytes() == data
    assert f"-g{ortl.GRAPH_VERSION}." in path.name
    assert not older.exists() and other_weights.exists()
    # Found again without building.
    assert ortl.cached_graph("abc", "avg", lambda: b"never", folder=folder) == (data, path)
