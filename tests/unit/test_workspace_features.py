"""A library's features in the workspace: the summary, the choices, switching (re-index)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avr_gui.core.config import load_config
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.jobs import Cancelled, CancelToken, no_progress
from avr_gui.core.library.library import VideoEntry
from avr_gui.core.workspace import Workspace
from avr_gui.core.workspace.features import (
    SWITCHABLE,
    feature_choices,
    feature_options,
    features_summary,
    install_pose_job,
    label_of,
    reindex_question,
)

pytest.importorskip("avr_gui.core.library")


def _entry(name: str, status: str = "indexed", person: bool | None = None) -> VideoEntry:
    return VideoEntry(f"/v/{name}", status, None, 2.0, 15.0, 64, 48, 20, person, None)


def test_the_summary_says_what_clips_are_compared_by():
    assert features_summary(None, []) == "Features: not chosen yet (the first index decides)"
    assert features_summary("effnet-lite0", [_entry("a")]) == "Features: Appearance"
    entries = [
        _entry("a", person=True),
        _entry("b", person=True),
        _entry("c", person=False),
        _entry("d", person=None),
        _entry("e", status="failed"),  # not indexed: not counted
    ]
    assert features_summary("auto", entries) == (
        "Features: automatic: 2 by body pose, 1 by appearance, 1 not known yet (index again)"
    )
    assert label_of("onnx") == "Your ONNX model" and label_of("new-one") == "new-one"


def test_the_summary_names_the_learned_pose_model_in_use():
    from avr_gui.core.library.learned import LearnedInfo

    info = LearnedInfo("model-1", "2026-11-30T10:00:00+00:00", {"a": 40, "b": 47}, 87)
    entries = [_entry("a", person=True), _entry("c", person=False)]
    assert features_summary("auto", entries, info) == (
        "Features: automatic: 1 by body pose (learned pose (model of 2026-11-30, 2 labels, "
        "87 clips)), 1 by appearance"
    )
    # Other features do not compare by body pose: the model is not mentioned.
    assert features_summary("effnet-lite0", entries, info) == "Features: Appearance"


def test_the_question_names_both_features_and_what_a_cancel_keeps():
    text = reindex_question("thumb16", "auto", 12)
    assert "Thumbnails (coarse)" in text and "Automatic" in text and "All 12 videos" in text
    assert "cancelling keeps them" in text


def test_choices_come_from_the_registry_with_their_availability():
    choices = feature_choices()
    assert [c.name for c in choices] == list(SWITCHABLE)
    thumb = next(c for c in choices if c.name == "thumb16")
    assert thumb.usable and thumb.reason == "ready" and thumb.description
    options = feature_options(("thumb16",))
    assert [c.name for c in options.choices] == ["thumb16"]
    assert isinstance(options.pose_ready, bool) and options.pose_message


def test_installing_from_a_bad_wheel_fails_in_one_line(tmp_path: Path):
    from avr_gui.core.features.pose.models import ModelInstallError

    bad = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelInstallError, match="not a readable wheel"):
        install_pose_job(tmp_path / "models", bad)(no_progress, None)
    assert not any((tmp_path / "models").glob("*.tflite"))


def test_a_cancelled_download_stops_pip_at_once(tmp_path: Path):
    """The real installer, no wheel given: pip starts, and the cancel stops it."""
    import time

    token = CancelToken()
    seen = []

    def progress(done, total, message):
        seen.append(message)
        token.cancel()  # cancel as soon as the download is announced

    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        install_pose_job(tmp_path / "models", None)(progress, token)
    assert time.monotonic() - t0 < 5.0
    assert seen and seen[0].startswith("downloading mediapipe")
    assert not any((tmp_path / "models").glob("*.tflite"))


@pytest.fixture
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("feature clips")
    for k in range(3):
        frames = render_frames(k, speed_warp(20, (1.0,)), (48, 36), ClipStyle(seed=k))
        write_video(d / f"clip{k}.mp4", frames, 15.0)
    return d


def _open(ws: Workspace) -> None:
    ws.library_opened(ws.open_job()(no_progress, None))


def test_switching_features_reindexes_the_library(tmp_path: Path, folder: Path):
    config = load_config(user_file=Path(os.devnull), environ={}, overrides={})
    ws = Workspace(str(tmp_path / "index"), "thumb16", config=config)
    _open(ws)
    ws.set_snapshot(ws.add_folder_job(str(folder))(no_progress, None))
    ws.set_snapshot(ws.index_job()(no_progress, None)[1])
    assert ws.encoder_name == "thumb16" and ws.snapshot.status.indexed == 3
    ws.set_query(str(folder / "clip0.mp4"))
    events = []
    ws.subscribe(events.append)
    old = ws.switch_features("effnet-lite0")
    old.close()
    assert ws.library is None and ws.query_path is None and ws.reindex
    assert ws.home == (ws.index_dir, None, None)  # its own features from now on
    _open(ws)
    assert not ws.reindex and ws.encoder_name == "effnet-lite0"
    # Every video waits for the new features; a cancelled run keeps what it did.
    assert ws.snapshot.status.pending == 3 and ws.snapshot.status.indexed == 0
    token = CancelToken()

    def progress(done, total, message):
        if done >= 1:
            token.cancel()

    with pytest.raises(Cancelled):
        ws.index_job()(progress, token)
    ws.set_snapshot(ws.snapshot_job()(no_progress, None))
    assert ws.snapshot.status.indexed == 1 and ws.snapshot.status.pending == 2
    summary, snap = ws.index_job()(no_progress, None)
    assert summary.indexed == snap.status.indexed == 3 and snap.encoder == "effnet-lite0"
    assert Workspace.LIBRARY in events
    ws.close()


def test_pips_raw_progress_lines_are_read():
    from avr_gui.core.features.pose.install import last_raw_progress

    assert last_raw_progress("") is None
    assert last_raw_progress("Collecting mediapipe\n  Downloading x.whl\n") is None
    out = "Collecting mediapipe\nProgress 0 of 900\nProgress 300 of 900\nProgress 900 of 900\n"
    assert last_raw_progress(out) == (900, 900)
    assert last_raw_progress("Progress 5 of 0\n") == (5, 0)  # size unknown to pip


def test_the_progress_reaches_the_end_of_a_download_quicker_than_a_poll():
    # A real child process that writes its progress and exits before the first look:
    # the last figure must still arrive (it once stopped at 8 of 35.6 MB).
    import sys

    from avr_gui.core.features.pose.install import _run_cancellable

    seen = []
    code = "print('Progress 300 of 900'); print('Progress 900 of 900')"
    rc, _out, _ = _run_cancellable(
        [sys.executable, "-c", code], 60, None, lambda d, t: seen.append((d, t))
    )
    assert rc == 0 and seen[-1] == (900, 900), seen


@pytest.mark.network
@pytest.mark.slow
def test_the_download_reports_its_bytes(tmp_path: Path):
    """The real download (36 MB from PyPI): progress in bytes up to the whole wheel."""
    from avr_gui.core.features.pose.models import ModelInstallError

    seen = []
    try:
        paths = install_pose_job(tmp_path / "models", None)(
            lambda d, t, m: seen.append((d, t, m)), None
        )
    except ModelInstallError as exc:
        pytest.skip(f"cannot download the mediapipe wheel (offline?): {exc}")
    downloads = [(d, t) for d, t, m in seen if m.endswith(" MB")]
    assert downloads, seen
    total = downloads[-1][1]
    assert total > 30e6 and downloads[-1][0] == total
    assert [d for d, _ in downloads] == sorted(d for d, _ in downloads)
    assert len(paths) == 2 and seen[-1][2] == "pose models installed"
