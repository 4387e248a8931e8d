"""Indexing logs: bad files at warning level, a bug in our code with its traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library

LOGGER = "avr_gui.core.library.indexer"


def _clip(path: Path, seed: int) -> Path:
    frames = render_frames(0, speed_warp(20, (1.0,)), (64, 48), ClipStyle(seed=seed))
    write_video(path, frames, 15.0)
    return path


class _BuggyThumb:
    """The real thumb16 encoder with a programming error planted in ``encode``.

    A stand-in for a bug in our own code: the only way to see how the indexer treats an
    exception that is not about the file.
    """

    def __init__(self) -> None:
        self._inner = get_encoder("thumb16")
        self.name = self._inner.name
        self.version = self._inner.version
        self.dim = self._inner.dim
        self.device = self._inner.device
        self.batch_size = self._inner.batch_size
        self.decode_side = self._inner.decode_side

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        raise ZeroDivisionError("planted bug")

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def test_bad_file_is_a_warning_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    videos = tmp_path / "v"
    videos.mkdir()
    _clip(videos / "good.mp4", 1)
    (videos / "fake.mp4").write_text("not a video")
    caplog.set_level(logging.INFO, logger=LOGGER)
    with Library.open(tmp_path / "index", encoder=get_encoder("thumb16")) as lib:
        lib.add_folder(videos)
        summary = lib.index()
    assert (summary.indexed, summary.failed) == (1, 1)
    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "fake.mp4" in records[0].getMessage()
    assert records[0].exc_info is None


def test_bug_in_our_code_is_logged_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    videos = tmp_path / "v"
    videos.mkdir()
    _clip(videos / "good.mp4", 1)
    caplog.set_level(logging.INFO, logger=LOGGER)
    with Library.open(tmp_path / "index", encoder=_BuggyThumb()) as lib:  # type: ignore[arg-type]
        lib.add_folder(videos)
        summary = lib.index()
        failures = lib.status().failures
    assert summary.failed == 1
    ((_, reason),) = failures
    assert reason.startswith("internal error") and "ZeroDivisionError" in reason
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert errors[0].exc_info[0] is ZeroDivisionError
    assert "good.mp4" in errors[0].getMessage()
