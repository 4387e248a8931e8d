"""The CUDA paths end to end: encoders, indexing, queries, partial alignment, training.

Every test here needs a CUDA GPU and is skipped cleanly without one (CI has none); they
ran on an H200 (docs/RESULTS.md). Each compares the GPU result with the CPU one, since
half precision on the GPU must not change what the user sees beyond rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avr_gui.core.align import AlignmentOptions
from avr_gui.core.align.partial import align_partial_many
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.features import encode_video, get_encoder
from avr_gui.core.features.encoders import EfficientNetEncoder
from avr_gui.core.library import Library

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    style = ClipStyle(seed=5, shake=0.01)
    return list(render_frames(0, speed_warp(45, (1.0, 2.0)), (320, 240), style))


@pytest.fixture(scope="module")
def encoders() -> tuple[EfficientNetEncoder, EfficientNetEncoder]:
    return EfficientNetEncoder(device="cuda"), EfficientNetEncoder(device="cpu")


def test_lite0_on_cuda_runs_half_precision_and_agrees_with_the_cpu(encoders, frames):
    gpu, cpu = encoders
    assert gpu.runtime == "torch" and gpu.device.startswith("cuda")
    assert gpu.version == cpu.version  # one library, whichever device indexed it
    g, c = gpu.encode(frames), cpu.encode(frames)
    assert g.shape == c.shape == (len(frames), 1280) and g.dtype == np.float32
    assert np.isfinite(g).all()
    assert _cosines(g, c).min() > 0.999
    assert np.linalg.norm(g - c) / np.linalg.norm(c) < 0.02
    # A batch of one, and a batch larger than the encoder's own, give the same rows.
    np.testing.assert_allclose(gpu.encode(frames[:1]), g[:1], atol=0.02)
    assert gpu.encode([]).shape == (0, 1280)


def test_encode_video_on_cuda_matches_the_cpu_pipeline(encoders, tmp_path):
    gpu, cpu = encoders
    clip = tmp_path / "clip ü.mp4"
    write_video(clip, render_frames(1, speed_warp(40, (0.5, 2.0)), (320, 240)), 20.0)
    g = encode_video(clip, gpu, fps=10.0)
    c = encode_video(clip, cpu, fps=10.0)
    np.testing.assert_array_equal(g.timestamps, c.timestamps)
    assert _cosines(g.features, c.features).min() > 0.999


def _clip(path: Path, action: int, speeds: tuple[float, ...], n: int, seed: int) -> None:
    style = ClipStyle(seed=seed, figure_bgr=(40 + 30 * seed % 200, 200, 255 - 20 * seed % 200))
    write_video(path, render_frames(action, speed_warp(n, speeds), (160, 120), style), 15.0)


def test_a_library_indexed_and_queried_on_cuda_ranks_as_on_the_cpu(tmp_path, monkeypatch):
    videos = tmp_path / "videos"
    videos.mkdir()
    _clip(videos / "q.mp4", 0, (1.0,), 30, 1)
    _clip(videos / "same slow.mp4", 0, (0.5, 2.0), 40, 2)
    _clip(videos / "same fast.mp4", 0, (2.0, 1.0), 26, 3)
    for k in range(4):
        _clip(videos / f"other{k}.mp4", 1 + k % 2, (1.0,), 28 + 3 * k, 4 + k)
    ranked = {}
    for device in ("cuda", "cpu"):
        monkeypatch.setenv("AVR_DEVICE", device)  # indexing and re-ranking both follow it
        enc = get_encoder("effnet-lite0")
        assert enc.device.startswith(device)
        with Library.open(tmp_path / f"index-{device}", encoder=enc) as lib:
            lib.add_folder(videos)
            assert lib.index().indexed == 7
            res = lib.query(videos / "q.mp4", top=6, candidates=6)
        ranked[device] = [(Path(m.path).name, m.score) for m in res.results]
    names = {d: [n for n, _ in r] for d, r in ranked.items()}
    assert set(names["cuda"][:2]) == set(names["cpu"][:2]) == {"same slow.mp4", "same fast.mp4"}
    assert sorted(names["cuda"]) == sorted(names["cpu"])
    scores = {d: dict(r) for d, r in ranked.items()}
    for name, score in scores["cpu"].items():
        assert scores["cuda"][name] == pytest.approx(score, abs=0.01)


def test_partial_alignment_with_cuda_cost_matrices_equals_the_cpu():
    rng = np.random.default_rng(11)
    query = rng.normal(size=(40, 64)).astype(np.float32)
    cands = [
        np.concatenate([rng.normal(size=(15, 64)), query[::2], rng.normal(size=(9, 64))])
        .astype(np.float32)
        for _ in range(3)
    ]
    gpu = align_partial_many(query, cands, AlignmentOptions(device="cuda"))
    cpu = align_partial_many(query, cands, AlignmentOptions(device="cpu"))
    for g, c in zip(gpu, cpu, strict=True):
        assert (g.mode, g.query_span, g.match_span) == (c.mode, c.query_span, c.match_span)
        np.testing.assert_array_equal(g.alignment.path, c.alignment.path)
        assert g.draq == pytest.approx(c.draq, rel=1e-4)


def test_lrprop_trains_on_cuda_and_returns_a_cpu_model():
    from avr_gui.core.learn import EncoderConfig
    from avr_gui.core.learn.train import LabelledClip, TrainConfig, train_lrprop

    rng = np.random.default_rng(3)

    def clip(label: int) -> LabelledClip:
        n = int(rng.integers(18, 30))
        p = np.linspace(0, 2, n) ** rng.uniform(0.7, 1.4)
        k = np.arange(1, 7)[None, :]
        f = np.sin(2 * np.pi * p[:, None] * (k if label == 0 else k[:, ::-1]) / 3 + label)
        f = (f + rng.normal(0, 0.05, f.shape)).astype(np.float32)
        v = np.ones(n, bool)
        return LabelledClip(str(label), ((f, v), (f[:, ::-1].copy(), v)))

    clips = [clip(k % 2) for k in range(8)]
    tiny = EncoderConfig(input_dim=6, hidden=16, output_dim=8, kernel=3, dilations=(1, 2))
    config = TrainConfig(steps=8, encoder=tiny, pairs_per_step=4, warmup=2, checkpoint_every=4)
    result = train_lrprop(clips, config, device="cuda")
    assert result.device.startswith("cuda")
    losses = [h["loss"] for h in result.history if "loss" in h]
    assert len(losses) == 8 and np.isfinite(losses).all()
    assert all(p.device.type == "cpu" for p in result.encoder.parameters())
