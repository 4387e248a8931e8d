"""``avr align`` on long clips: bounded memory past the switch, one line past the limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avr_gui import cli
from avr_gui.core.align import multiscale as MS

FRAMES = 40_000  # about 67 minutes at 10 fps


def _long_pair(tmp_path: Path, frames: int, d: int = 16) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    base = np.cumsum(rng.standard_normal((frames, d), dtype=np.float32), axis=0)
    speeds = np.clip(1.0 + 0.5 * np.sin(np.arange(frames) / 300.0), 0.3, 1.8)
    idx = np.clip(np.round(np.cumsum(speeds)), 0, frames - 1).astype(int)
    warped = base[idx] + 0.3 * rng.standard_normal((len(idx), d), dtype=np.float32)
    q, c = tmp_path / "long_q.npy", tmp_path / "long_c.npy"
    np.save(q, base)
    np.save(c, warped)
    return q, c


@pytest.mark.slow
def test_two_long_clips_align(avr, tmp_path: Path) -> None:
    q, c = _long_pair(tmp_path, FRAMES)
    r = avr("align", q, c, "--json", timeout=300)
    assert r.code == 0, r.err
    data = r.json()
    n, m = data["shape"]
    assert n == FRAMES and n * m > MS.MULTISCALE_CELLS
    path = np.array(data["path"])
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]
    assert set(map(tuple, np.diff(path, axis=0).tolist())) <= {(0, 1), (1, 0), (1, 1)}
    assert data["options"]["multiscale"] is True
    assert data["options"]["draq"] == "sampled"
    assert data["draq"] < 0.3  # a warped copy: far better than chance


def test_short_clips_report_the_exact_method(avr, tmp_path: Path) -> None:
    q, c = _long_pair(tmp_path, 200)
    data = avr("align", q, c, "--json").json()
    assert data["options"]["multiscale"] is False
    assert data["options"]["draq"] == "exact"


def _run_cli(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


def test_past_the_limit_one_line_no_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    q, c = _long_pair(tmp_path, 3000, d=4)
    monkeypatch.setattr(MS, "MULTISCALE_CELLS", 10_000)
    monkeypatch.setattr(MS, "MAX_BAND_CELLS", 50_000)
    code, err = _run_cli(["align", str(q), str(c), "--json"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("avr: error: ")
    assert "limit" in err and "Traceback" not in err


def test_out_of_memory_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    q, c = _long_pair(tmp_path, 100, d=4)

    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("avr_gui.core.align.align_auto", no_memory)
    code, err = _run_cli(["align", str(q), str(c)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "not enough memory" in err
