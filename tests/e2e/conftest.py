"""Fixtures for end-to-end tests of the ``avr`` command on generated videos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def avr():
    """Run ``avr ARGS...`` in a subprocess, as a user would."""

    def run(*args: str | Path, timeout: float = 120) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "avr_gui.cli", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return CliResult(proc)

    return run


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated videos: a query, a warped restyled copy, another action, a portrait clip."""
    d = tmp_path_factory.mktemp("clips ünï code")
    out = {}
    specs = {
        "query": (0, 40, (1.0,), ClipStyle(seed=1), (160, 120)),
        "warped": (
            0,
            56,
            (0.5, 2.0, 1.0),
            ClipStyle((90, 240, 120), (60, 45, 70), seed=2),
            (160, 120),
        ),
        "other": (1, 45, (1.0,), ClipStyle((60, 80, 230), seed=4), (160, 120)),
        "portrait": (0, 30, (1.0,), ClipStyle(seed=6), (96, 160)),
    }
    for name, (action, n, speeds, style, size) in specs.items():
        path = d / f"{name} clip.mp4"
        write_video(path, render_frames(action, speed_warp(n, speeds), size, style), 15.0)
        out[name] = path
    out["speeds"] = specs  # type: ignore[assignment]
    return out


def true_partner(n_query: int, query_speeds, n_match: int, match_speeds) -> np.ndarray:
    """Match frame (fractional) at the same action progress as each query frame."""
    pq = speed_warp(n_query, query_speeds)
    pm = speed_warp(n_match, match_speeds)
    return np.interp(pq, pm, np.arange(n_match, dtype=np.float64))
