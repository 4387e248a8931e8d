"""``avr align --matrix-png``: the cost matrix drawn with axes in seconds and a colour bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avr_gui.core.align import MULTISCALE_CELLS


def _walk(rng: np.random.Generator, t: int, d: int = 8) -> np.ndarray:
    return np.cumsum(rng.standard_normal((t, d)), axis=0).astype(np.float32)


def test_align_draws_the_cost_matrix(avr, tmp_path: Path):
    rng = np.random.default_rng(3)
    base = _walk(rng, 60)
    q, c = tmp_path / "q.npy", tmp_path / "c.npy"
    np.save(q, base)
    np.save(c, base[np.clip(np.round(np.arange(45) * 1.3), 0, 59).astype(int)])
    png = tmp_path / "out ü" / "matrix.png"
    png.parent.mkdir()
    r = avr("align", q, c, "--json", "--matrix-png", png)
    assert r.code == 0, r.err
    assert r.json()["matrix_png"] == str(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    assert w > 400 and h > 400  # a figure with axes, not a bare 60 x 45 cell picture
    # The colour bar: a column of viridis from dark purple (low) to yellow (high).
    purple = np.all(np.abs(image.astype(int) - (84, 1, 68)) < 30, axis=2)  # BGR
    yellow = np.all(np.abs(image.astype(int) - (37, 231, 253)) < 30, axis=2)
    assert purple.any() and yellow.any()
    text = avr("align", q, c, "--matrix-png", png)
    assert text.code == 0 and f"matrix    {png}" in text.out


def test_an_unwritable_png_is_refused_before_the_work(avr, tmp_path: Path):
    q = tmp_path / "q.npy"
    np.save(q, _walk(np.random.default_rng(0), 20))
    r = avr("align", q, q, "--matrix-png", tmp_path / "no such folder" / "m.png")
    assert r.code != 0 and "no such folder" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_a_pair_too_long_to_draw_says_so(avr, tmp_path: Path):
    n = int(MULTISCALE_CELLS**0.5) + 50  # past the coarse-to-fine switch
    q = tmp_path / "long.npy"
    np.save(q, _walk(np.random.default_rng(1), n, 4))
    png = tmp_path / "m.png"
    r = avr("align", q, q, "--matrix-png", png, timeout=300)
    assert r.code != 0 and "cannot be drawn" in r.err
    assert not png.exists()
