"""``avr eval`` end to end: E2 on Penn-layout files, and on the real data when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
E2_KEYS = {
    "recall@1", "recall@5", "recall@10", "top1_draq", "top1_dtw", "top1_best",
    "auroc_draq", "auroc_dtw", "auroc_tau", "auroc_best", "fpe_retrieval", "fpe_draq",
}  # fmt: skip


def _penn_like(path: Path, n: int, seed: int) -> None:
    """A Penn-Action-layout file of n toy sequences of two actions."""
    rng = np.random.default_rng(seed)
    xs, ys, offsets, actions = [], [], [0], []
    for k in range(n):
        t = np.linspace(0, 1, int(rng.integers(20, 40)))[:, None]
        a = k % 2
        wave = np.sin(2 * np.pi * (a + 1) * t) * (1 + np.arange(13)[None] * (0.1 + a * 0.2))
        xs.append(100 + 30 * wave + rng.normal(0, 1, (len(t), 13)))
        ys.append(150 + 40 * np.cos(2 * np.pi * t) * np.ones((1, 13)) + np.arange(13) * 10)
        offsets.append(offsets[-1] + len(t))
        actions.append(f"act{a}")
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.float32)
    np.savez(
        path,
        x=x,
        y=y,
        visibility=np.ones(x.shape, np.uint8),
        bbox=np.tile(np.array([[0, 0, 200, 300]], np.float32), (len(x), 1)),
        offsets=np.array(offsets, np.int64),
        action=np.array(actions),
    )


def test_e2_on_given_library_and_queries(avr, tmp_path):
    lib, q = tmp_path / "library.npz", tmp_path / "queries.npz"
    _penn_like(lib, 20, 0)
    _penn_like(q, 6, 1)
    r = avr("eval", "e2", "--library", lib, "--queries", q, "--json", "--plots", tmp_path / "p")
    assert r.code == 0, r.err
    data = r.json()
    assert E2_KEYS <= set(data) and data["best_score"] == data["best"]
    assert data["queries"] == 6 and data["library"] == 20
    assert data["recall@10"] == 1.0
    assert {Path(p).name for p in data["plots"]} == {
        "e2_recall.png",
        "e2_rerank.png",
        "e2_figure5.png",
    }
    bad = avr("eval", "e2", "--library", lib)
    assert bad.code == 2 and "both --library and --queries" in bad.err


def test_missing_data_is_a_clear_error(avr, tmp_path):
    r = avr("eval", "e3", "--data", tmp_path)
    assert r.code == 2 and "no clips" in r.err and "Traceback" not in r.err


@pytest.mark.skipif(not (SHARED / "penn_action").exists(), reason="needs ../shared/data")
def test_e2_on_penn_action(avr):
    r = avr("eval", "e2", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert E2_KEYS <= set(data)
    assert data["recall@1"] >= 0.912 and data["auroc_draq"] >= 0.81


E4_KEYS = {
    "phase_classification", "phase_progression", "kendall_tau", "ap@5", "ap@10", "ap@15",
    "apa", "dtw_accuracy", "cpe", "fpe", "auroc_draq", "auroc_dtw", "auroc_tau", "curves",
}  # fmt: skip


def test_e4_on_generated_clips_with_plots(avr, tmp_path):
    r = avr("eval", "e4", "--backend", "thumb16", "--json", "--plots", tmp_path / "plots")
    assert r.code == 0, r.err
    data = r.json()
    assert E4_KEYS <= set(data)
    # Even grey thumbnails of the drawn person align phases far above chance (4 phases:
    # about 0.3), and round trips keep their phase.
    assert data["apa"] > 0.6 and data["dtw_accuracy"] > 0.6 and data["cpe"] < 0.05
    assert len(data["curves"]["dtw"]["agreement"]) == 20
    for png in data["plots"]:
        assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = avr("eval", "e4", "--backend", "thumb16", "--json")
    assert again.json()["apa"] == data["apa"]  # seeded: the same figures every run
