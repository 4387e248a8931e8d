"""``auto`` libraries: pose for performer clips, appearance for the rest, and bad clips.

Real BlazePose models (installed from the wheel into a test folder) and real
EfficientNet-Lite0 weights; a real person from ``pushup.mp4`` (skipped without
``../shared``), clips built from it where pose is hard (tiny, half a body, two people),
and a generated clip without anyone.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from test_library_pose import REAL, excerpt

from avr_gui.cli import main
from avr_gui.core.demo.synth import render_frames, write_video
from avr_gui.core.features import default_backend, get_encoder
from avr_gui.core.library import Library
from avr_gui.core.video.decode import sample_frames

pytestmark = pytest.mark.slow


def _rewrite(src: Path, dst: Path, edit) -> None:
    frames = [edit(f.image) for f in sample_frames(src, None)]
    h, w = frames[0].shape[:2]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, image in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))


def _tiny(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    canvas = np.zeros((h * 2, w * 2, 3), np.uint8)
    small = img[::4, ::4]
    canvas[: small.shape[0], : small.shape[1]] = small
    return canvas[: (h * 2) // 2 * 2, : (w * 2) // 2 * 2]


def _half(img: np.ndarray) -> np.ndarray:
    h = img.shape[0] // 2
    return img[: h // 2 * 2]


def _two(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img, img[:, ::-1]], axis=1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("auto clips")
    excerpt(REAL / "pushup.mp4", d / "person.mp4", 0.0)
    empty = render_frames(0, np.linspace(0, 1, 30), (320, 180))
    write_video(d / "empty.mp4", empty, 15.0)
    _rewrite(d / "person.mp4", d / "tiny.mp4", _tiny)
    _rewrite(d / "person.mp4", d / "half.mp4", _half)
    _rewrite(d / "person.mp4", d / "two people.mp4", _two)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    return d


@pytest.fixture(scope="module")
def auto_index(tmp_path_factory: pytest.TempPathFactory, folder: Path, pose_models: Path) -> Path:
    index = tmp_path_factory.mktemp("auto index")
    enc = get_encoder("auto", weights=pose_models)
    with Library.open(index, encoder=enc) as lib:
        lib.add_folder(folder)
        summary = lib.index()
    # Only the file that is not a video fails; hard poses fall back, never break.
    assert (summary.indexed, summary.failed) == (5, 1)
    return index


def test_each_clip_records_what_it_is_compared_on(auto_index: Path, folder: Path) -> None:
    with Library.open(auto_index) as lib:
        assert lib.encoder_name == "auto"
        kinds = {Path(e.path).name: e.has_person for e in lib.entries() if e.status == "indexed"}
    assert kinds["person.mp4"] is True
    assert kinds["empty.mp4"] is False
    # Hard cases are decided either way, but always decided.
    assert all(isinstance(kinds[n], bool) for n in ("tiny.mp4", "half.mp4", "two people.mp4"))


def test_a_performer_query_is_matched_by_pose(
    auto_index: Path, tmp_path: Path, pose_models: Path
) -> None:
    later = tmp_path / "later.mp4"
    excerpt(REAL / "pushup.mp4", later, 2.5)
    with Library.open(auto_index, encoder=get_encoder("auto", weights=pose_models)) as lib:
        res = lib.query(later, top=3)
    assert res.query_performer is True
    best = res.results[0]
    assert Path(best.path).name in ("person.mp4", "two people.mp4", "half.mp4", "tiny.mp4")
    assert all(m.compared_on == "pose" for m in res.results)
    assert all(m.has_person for m in res.results)  # performers meet performers
    assert best.alignable is not None and 0.0 <= best.alignable <= 1.0
    assert best.match_span_s is not None and best.match_span_s[0] <= best.match_span_s[1]
    assert set(best.alignment.path[:, 0].tolist()) == set(range(len(res.query.features)))


def test_a_query_without_a_person_is_matched_by_appearance(auto_index: Path, folder: Path) -> None:
    with Library.open(auto_index) as lib:
        res = lib.query(folder / "empty.mp4", top=3)
    assert res.query_performer is False
    assert res.results and all(m.compared_on == "appearance" for m in res.results)


def test_cli_status_and_query_say_what_was_compared(
    auto_index: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--index", str(auto_index)]) == 0
    out = capsys.readouterr().out
    assert "encoder  auto" in out and "by body pose" in out and "by appearance" in out
    assert (
        main(["query", str(folder / "person.mp4"), "--index", str(auto_index), "--top", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "compared on body pose" in out and "ranked by pose similarity (higher = better)" in out


def test_without_pose_models_new_libraries_use_appearance_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "no models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "no data"))
    said: list[str] = []
    assert default_backend(on_fallback=said.append) == "effnet-lite0"
    assert len(said) == 1 and "avr models install pose" in said[0]


def test_performer_descriptors_are_read_once_per_content(
    auto_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Library.open(auto_index) as lib:
        first = lib.performer_index()
        assert first.paths  # the person clip at least
        reads: list[str] = []
        real = lib._read_track
        monkeypatch.setattr(
            lib, "_read_track", lambda row, *a: reads.append(row.path) or real(row, *a)
        )
        first.generation = -1  # as after any catalog change
        again = lib.performer_index()
        assert again is not first and again.paths == first.paths
        np.testing.assert_array_equal(again.descriptors, first.descriptors)
        assert reads == []  # nothing read again: same content, same descriptors
