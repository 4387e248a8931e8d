"""Pose libraries: tracks stored beside the features, has_person, query poses, migration.

A real person (a 2 s excerpt of ``pushup.mp4``) and a generated clip without anyone are
indexed with BlazePose (models installed from the real wheel into a test folder), and
with BlazePose fused with EfficientNet-Lite0.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest

from avr_gui.cli import main
from avr_gui.core.demo.synth import render_frames, write_video
from avr_gui.core.features import get_encoder
from avr_gui.core.features import sequence as sequence_module
from avr_gui.core.features.encoders import ThumbnailEncoder
from avr_gui.core.features.pose import PoseTrack, encode_pose_video
from avr_gui.core.features.pose import encoder as pose_encoder_module
from avr_gui.core.features.pose.normalize import HAS_POSE_COLUMN, POSE_DIM
from avr_gui.core.library import Library, LibraryCorruptError
from avr_gui.core.library.catalog import SCHEMA_VERSION
from avr_gui.core.video.decode import sample_frames

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[3] / "shared"
REAL = SHARED / "data" / "real"


def excerpt(src: Path, dst: Path, start: float, seconds: float = 2.0) -> int:
    """Write ``seconds`` of ``src`` from ``start`` as a 640 px H.264 clip; returns frames."""
    if not src.exists():
        pytest.skip(f"{src} missing (evaluation data not present)")
    frames = []
    for f in sample_frames(src, None, size=640):
        if f.time >= start + seconds:
            break
        if f.time >= start:
            frames.append(f.image)
    h, w = frames[0].shape[:2]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, image in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return len(frames)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A person, a clip without anyone, and a file that is not a video."""
    d = tmp_path_factory.mktemp("pose clips ünï")
    excerpt(REAL / "pushup.mp4", d / "person.mp4", 0.0)
    empty = render_frames(0, np.linspace(0, 1, 30), (320, 180))
    write_video(d / "empty.mp4", empty, 15.0)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    return d


@pytest.fixture(scope="module")
def other_person(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another stretch of the same push-ups, outside the library."""
    d = tmp_path_factory.mktemp("outside")
    excerpt(REAL / "pushup.mp4", d / "later.mp4", 2.5)
    return d / "later.mp4"


@pytest.fixture(scope="module")
def blazepose(pose_models: Path):
    return get_encoder("pose-blazepose", weights=pose_models, num_threads=2)


@pytest.fixture(scope="module")
def pose_index(tmp_path_factory: pytest.TempPathFactory, folder: Path, blazepose) -> Path:
    """A BlazePose library of ``folder``, indexed once (tests work on copies or read)."""
    index = tmp_path_factory.mktemp("pose index")
    with Library.open(index, encoder=blazepose) as lib:
        lib.add_folder(folder)
        summary = lib.index()
    assert (summary.indexed, summary.failed, summary.encoded) == (2, 1, 2)
    return index


def _track_files(index: Path) -> list[Path]:
    return sorted((index / "features").rglob("*.pose.npz"))


class DecodeCounter:
    """Counts decoding passes (calls of ``sample_frames``) of the two encode paths."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for module in (pose_encoder_module, sequence_module):
            real = module.sample_frames

            def spy(path, *args, _real=real, **kwargs):
                self.calls.append(Path(path).name)
                return _real(path, *args, **kwargs)

            monkeypatch.setattr(module, "sample_frames", spy)


def test_pose_library_stores_a_track_per_clip(pose_index: Path, folder: Path, blazepose) -> None:
    with Library.open(pose_index, encoder=blazepose) as lib:
        assert lib.is_pose
        entries = {Path(e.path).name: e for e in lib.entries()}
        assert entries["person.mp4"].has_person is True
        assert entries["empty.mp4"].has_person is False
        assert entries["broken.mp4"].status == "failed"
        assert entries["broken.mp4"].has_person is None
        person = str(folder / "person.mp4")
        track = lib.pose_track(person)
        feats = lib.features(person)
    assert isinstance(track, PoseTrack)
    n = feats.features.shape[0]
    assert n == 20  # 2 s at 10 frames/s
    assert track.landmarks.shape == (n, 33, 3) and track.landmarks.dtype == np.float32
    np.testing.assert_array_equal(track.timestamps, feats.timestamps)
    np.testing.assert_array_equal(track.frame_indices, feats.frame_indices)
    assert track.frame_size == (640, 360)
    assert track.source == person and track.backend == "pose-blazepose"
    assert track.has_pose.all()
    # The stored flag agrees with the feature flag frame by frame.
    np.testing.assert_array_equal(
        track.has_pose, np.asarray(feats.features[:, HAS_POSE_COLUMN]) > 0
    )
    # Shoulders in the picture, in source pixels (not the 0..1 of the model).
    shoulders = track.landmarks[:, [11, 12], :2]
    assert (shoulders[..., 0] > 0).all() and (shoulders[..., 0] < 640).all()
    assert (shoulders[..., 1] > 0).all() and (shoulders[..., 1] < 360).all()
    # One track file per indexed clip, beside its features.
    tracks = _track_files(pose_index)
    assert len(tracks) == 2
    for t in tracks:
        key = t.name.removesuffix(".pose.npz")
        assert (t.parent / f"{key}.f16.npy").is_file()
        assert (t.parent / f"{key}.time.npy").is_file()


def test_a_clip_without_a_person_still_indexes(pose_index: Path, folder: Path, blazepose) -> None:
    with Library.open(pose_index, encoder=blazepose) as lib:
        empty = folder / "empty.mp4"
        track = lib.pose_track(empty)
        feats = lib.features(empty)
        assert lib.pose_track(folder / "broken.mp4") is None
        assert lib.pose_track(folder / "not there.mp4") is None
    assert track is not None and track.landmarks.shape[0] == feats.features.shape[0] > 0
    assert not track.has_pose.any()
    assert not (np.asarray(feats.features[:, HAS_POSE_COLUMN]) > 0).any()


def test_indexing_decodes_each_clip_once(
    tmp_path: Path, folder: Path, blazepose, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DecodeCounter(monkeypatch)
    with Library.open(tmp_path / "ix", encoder=blazepose) as lib:
        lib.add_folder(folder)
        lib.index()
    assert sorted(spy.calls) == ["empty.mp4", "person.mp4"]  # broken fails at probe


def test_query_carries_the_pose_of_the_query_and_has_person(
    pose_index: Path, folder: Path, other_person: Path, blazepose, tmp_path: Path
) -> None:
    person = folder / "person.mp4"
    with Library.open(pose_index, encoder=blazepose) as lib:
        stored = lib.pose_track(person)
        res = lib.query(person, top=5)
        assert res.query_pose is not None and stored is not None
        np.testing.assert_array_equal(res.query_pose.landmarks, stored.landmarks)
        assert [Path(m.path).name for m in res.results] == ["empty.mp4"]
        assert res.results[0].has_person is False
        # Trimmed: the features are cut, the track stays whole (looked up by time).
        res = lib.query(person, trim=(0.5, 1.5))
        assert res.query.features.shape[0] < stored.landmarks.shape[0]
        assert res.query_pose is not None
        assert res.query_pose.landmarks.shape == stored.landmarks.shape
        # A copy elsewhere: the stored track, named after the copy, nothing decoded.
        copy = tmp_path / "copy of person.mp4"
        shutil.copyfile(person, copy)
        res = lib.query(copy)
        assert res.query_pose is not None and res.query_pose.source == str(copy)
        np.testing.assert_array_equal(res.query_pose.landmarks, stored.landmarks)
        # A new file: landmarks found while encoding it, in its own pixels.
        res = lib.query(other_person)
        assert res.query_pose is not None
        assert res.query_pose.has_pose.all() and res.query_pose.frame_size == (640, 360)
        assert res.query_pose.landmarks.shape[0] == res.query.features.shape[0]
        ranked = {Path(m.path).name: m.has_person for m in res.results}
        assert ranked == {"person.mp4": True, "empty.mp4": False}
        # A bare feature sequence has no pose.
        res = lib.query(lib.features(person))
        assert res.query_pose is None


def test_tracks_go_with_their_features(
    pose_index: Path, tmp_path: Path, folder: Path, blazepose
) -> None:
    index = tmp_path / "index"
    shutil.copytree(pose_index, index)
    videos = tmp_path / "videos"
    shutil.copytree(folder, videos)
    with Library.open(index, encoder=blazepose) as lib:
        lib.remove_folder(folder)
        lib.add_folder(videos)
        summary = lib.index()  # same content elsewhere: a move, the tracks are kept
        # The broken file is not "moved": a failure never passes to a new path, it is
        # tried again there (and fails again: nothing encoded).
        assert (summary.moved, summary.encoded, summary.failed) == (2, 0, 1)
        assert len(_track_files(index)) == 2
        assert lib.pose_track(videos / "person.mp4") is not None
        (videos / "person.mp4").unlink()
        lib.index()
        assert lib.pose_track(videos / "person.mp4") is None
        assert len(_track_files(index)) == 1
        # A damaged track is an error, not a silent None.
        _track_files(index)[0].write_bytes(b"not a zip")
        with pytest.raises(LibraryCorruptError, match="pose track"):
            lib.pose_track(videos / "empty.mp4")


def test_an_old_pose_library_migrates_and_gets_its_tracks(
    pose_index: Path, tmp_path: Path, folder: Path, blazepose
) -> None:
    """A schema-1 catalog of a pose library (no has_person, no tracks): next index adds them."""
    index = tmp_path / "old"
    shutil.copytree(pose_index, index)
    for t in _track_files(index):
        t.unlink()
    db = sqlite3.connect(index / "catalog.sqlite")
    db.execute("ALTER TABLE videos DROP COLUMN has_person")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with Library.open(index, encoder=blazepose) as lib:
        person = folder / "person.mp4"
        assert lib.pose_track(person) is None
        assert {e.has_person for e in lib.entries()} == {None}
        res = lib.query(person)  # still queryable before the tracks are back
        assert res.query_pose is None and res.results[0].has_person is None
        summary = lib.index()
        assert summary.encoded == 2 and summary.indexed == 2
        assert lib.pose_track(person) is not None
        flags = {Path(e.path).name: e.has_person for e in lib.entries()}
        assert flags == {"person.mp4": True, "empty.mp4": False, "broken.mp4": None}
        assert lib.index().encoded == 0  # done once
    db = sqlite3.connect(index / "catalog.sqlite")
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    db.close()
    assert version == str(SCHEMA_VERSION) == "3"


def test_a_library_without_pose_has_no_tracks(
    pose_index: Path, tmp_path: Path, folder: Path
) -> None:
    # Re-indexing a pose library with an appearance encoder drops its tracks too.
    index = tmp_path / "index"
    shutil.copytree(pose_index, index)
    with Library.open(index, encoder=ThumbnailEncoder(), reindex=True) as lib:
        assert not lib.is_pose
        lib.index()
        person = folder / "person.mp4"
        assert lib.pose_track(person) is None
        assert {e.has_person for e in lib.entries()} == {None}
        res = lib.query(person)
        assert res.query_pose is None
        assert [m.has_person for m in res.results] == [None]
    assert _track_files(index) == []


def test_pose_feature_arrays_get_has_person_but_no_track(
    pose_index: Path, tmp_path: Path, folder: Path, blazepose
) -> None:
    with Library.open(pose_index, encoder=blazepose) as lib:
        items = [(n, lib.features(folder / f"{n}.mp4")) for n in ("person", "empty")]
    with Library.open(tmp_path / "arrays") as lib:
        assert lib.add_features(items) == 2
        assert lib.is_pose  # adopted from the arrays' encoder
        flags = {e.path: e.has_person for e in lib.entries()}
        assert flags == {"person": True, "empty": False}
        assert lib.pose_track("person") is None
        res = lib.query(items[0][1])
        # A bare sequence excludes nothing: the clip itself comes first.
        assert [(m.path, m.has_person) for m in res.results] == [
            ("person", True),
            ("empty", False),
        ]


def test_fused_encoder_stores_tracks_in_one_decoding_pass(
    tmp_path: Path, folder: Path, pose_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused = get_encoder("pose-fused", weights=pose_models, num_threads=2)
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("person.mp4", "empty.mp4"):
        shutil.copyfile(folder / name, videos / name)
    spy = DecodeCounter(monkeypatch)
    with Library.open(tmp_path / "ix", encoder=fused) as lib:
        lib.add_folder(videos)
        assert lib.index().indexed == 2
        assert sorted(spy.calls) == ["empty.mp4", "person.mp4"]
        feats = lib.features(videos / "person.mp4")
        assert feats.features.shape[1] == POSE_DIM + 1280
        track = lib.pose_track(videos / "person.mp4")
        assert track is not None and track.has_pose.all()
        assert track.backend == "pose-fused"
        flags = {Path(e.path).name: e.has_person for e in lib.entries()}
        assert flags == {"person.mp4": True, "empty.mp4": False}
    # The same landmarks as BlazePose alone finds on the clip.
    _, alone = encode_pose_video(videos / "person.mp4", fused.pose)
    np.testing.assert_allclose(track.landmarks, alone.landmarks, atol=1e-3)


def test_cli_reports_has_person(
    pose_index: Path, folder: Path, pose_models: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(pose_models))
    assert main(["status", "--index", str(pose_index), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["has_person"] == {"true": 1, "false": 1, "unknown": 0}
    assert status["no_person"] == [str(folder / "empty.mp4")]
    assert main(["query", str(folder / "person.mp4"), "--index", str(pose_index), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query_has_person"] is True
    assert [(Path(r["path"]).name, r["has_person"]) for r in out["results"]] == [
        ("empty.mp4", False)
    ]
    assert main(["status", "--index", str(pose_index)]) == 0
    text = capsys.readouterr().out
    assert "1 with a person, 1 without" in text and "no person: " in text


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two generated clips (no evaluation data or models needed)."""
    d = tmp_path_factory.mktemp("synthetic")
    for k in range(2):
        frames = render_frames(k, np.linspace(0, 1, 20), (160, 120))
        write_video(d / f"clip{k}.mp4", frames, 10.0)
    return d


def test_a_library_without_pose_reports_none(synthetic: Path, tmp_path: Path, capsys) -> None:
    index = str(tmp_path / "ix")
    assert main(["index", str(synthetic), "--index", index, "--backend", "thumb16", "--json"]) == 0
    capsys.readouterr()
    with Library.open(index) as lib:
        assert not lib.is_pose
        clip = synthetic / "clip0.mp4"
        assert lib.pose_track(clip) is None
        assert [e.has_person for e in lib.entries()] == [None, None]
        res = lib.query(clip)
        assert res.query_pose is None
        assert [m.has_person for m in res.results] == [None]
    assert list((tmp_path / "ix" / "features").rglob("*.pose.npz")) == []
    assert main(["status", "--index", index, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["has_person"] is None and status["no_person"] is None
    assert main(["query", str(synthetic / "clip0.mp4"), "--index", index, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query_has_person"] is None
    assert [r["has_person"] for r in out["results"]] == [None]
