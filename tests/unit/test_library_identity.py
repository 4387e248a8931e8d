"""Library integrity under faults: content identity, retried failures, repaired stores.

Every test works on real generated videos, decoded for real (thumb16: fast), and damages
files the way disks and users do: bytes zeroed in the middle, truncation, a file that is
gone for a moment, deleted or garbled index files, a catalog row that names a bad key.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import (
    ClipStyle,
    render_frames,
    speed_warp,
    write_video,
    write_video_av,
)
from avr_gui.core.errors import DecodeWarning
from avr_gui.core.features import get_encoder
from avr_gui.core.features.sequence import encode_video
from avr_gui.core.library import Library, LibraryCorruptError
from avr_gui.core.library.indexer import READ_ERROR, feature_key
from avr_gui.core.library.scan import fingerprint, legacy_fingerprint

THUMB = get_encoder("thumb16")
pytestmark = pytest.mark.filterwarnings("ignore::avr_gui.core.errors.DecodeWarning")


def noisy_clip(path: Path, n: int = 150, seed: int = 1) -> Path:
    """10 s at 15 fps, noisy enough (~730 KB) that its middle is far from both ends."""
    frames = render_frames(0, speed_warp(n, (1.0,)), (160, 120), ClipStyle(seed=seed))
    noise = np.random.default_rng(seed).integers(-40, 40, frames.shape)
    write_video(path, np.clip(frames + noise, 0, 255).astype(np.uint8), 15.0)
    return path


def small_clip(path: Path, action: int = 0, n: int = 24, seed: int = 1) -> Path:
    frames = render_frames(action, speed_warp(n, (1.0,)), (64, 48), ClipStyle(seed=seed))
    write_video(path, frames, 15.0)
    return path


def zero_middle(path: Path, nbytes: int = 100_000) -> None:
    """Zero ``nbytes`` in the middle of a file: same size, same first and last 64 KB."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid - nbytes // 2 : mid + nbytes // 2] = bytes(nbytes)
    path.write_bytes(bytes(data))


def decoded_frames(path: Path) -> int:
    """Feature frames of a direct encode (the reference a library must agree with)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecodeWarning)
        return int(encode_video(path, THUMB, fps=10.0).features.shape[0])


def catalog_rows(index: Path) -> list[tuple]:
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        return db.execute("SELECT * FROM videos ORDER BY path").fetchall()
    finally:
        db.close()


def sql(index: Path, statement: str, params: tuple = ()) -> None:
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        db.execute(statement, params)
        db.commit()
    finally:
        db.close()


def open_lib(root: Path) -> Library:
    return Library.open(root, encoder=THUMB)


@pytest.fixture(scope="module")
def clip10s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return noisy_clip(tmp_path_factory.mktemp("clips") / "clip10s.mp4")


def test_an_edit_in_the_middle_of_a_video_is_seen(tmp_path: Path, clip10s: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    clip = videos / "clip.mp4"
    shutil.copyfile(clip10s, clip)
    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        assert lib.index().encoded == 1
        assert lib.features(clip).features.shape[0] == 100
        old_fp = legacy_fingerprint(clip)
        zero_middle(clip)
        assert legacy_fingerprint(clip) == old_fp  # what the old fingerprint saw
        s = lib.index()
        assert (s.encoded, s.unchanged) == (1, 0)
        n = lib.features(clip).features.shape[0]
    assert n == decoded_frames(clip) < 100


def test_copies_never_reuse_the_features_of_a_damaged_copy(tmp_path: Path, clip10s: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    damaged = videos / "a damaged.mp4"  # first in path order: indexed first
    shutil.copyfile(clip10s, damaged)
    zero_middle(damaged)
    copies = [videos / f"copy {k}.mp4" for k in range(3)]
    for c in copies:
        shutil.copyfile(clip10s, c)
    assert len({legacy_fingerprint(p) for p in [damaged, *copies]}) == 1
    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        s = lib.index()
        assert (s.indexed, s.encoded) == (4, 2)  # the damaged file, one intact copy
        n_damaged = lib.features(damaged).features.shape[0]
        counts = {lib.features(c).features.shape[0] for c in copies}
    assert n_damaged == decoded_frames(damaged) < 100
    assert counts == {100}


def test_a_file_gone_for_a_moment_is_indexed_when_it_returns(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    clip = small_clip(videos / "clip.mp4")
    away = tmp_path / "away.mp4"

    def vanish(done: int, total: int, message: str) -> None:
        # Between the scan and the decoding: the indexer finds it gone when it reads it.
        if message == str(clip) and clip.exists():
            clip.rename(away)

    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        s = lib.index(progress=vanish)
        assert s.failed == 1
        ((_, reason),) = lib.status().failures
        assert reason.startswith(READ_ERROR) and "no such file" in reason
        away.rename(clip)  # back, unchanged (same size and mtime)
        s = lib.index()
        assert (s.indexed, s.failed, s.encoded) == (1, 0, 1)


def test_a_renamed_failed_file_is_tried_again(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    clip = small_clip(videos / "clip.mp4")
    away = tmp_path / "away.mp4"

    def vanish(done: int, total: int, message: str) -> None:
        if message == str(clip) and clip.exists():
            clip.rename(away)

    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        assert lib.index(progress=vanish).failed == 1
        renamed = videos / "renamed.mp4"
        away.rename(renamed)  # same content under a new name: not the failure's heir
        s = lib.index()
        assert (s.indexed, s.failed, s.moved, s.encoded) == (1, 0, 0, 1)
        assert lib.features(renamed).features.shape[0] == 16


def test_an_old_catalogs_read_failure_is_tried_again(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    clip = small_clip(videos / "clip.mp4")
    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        lib.index()
    # What the previous version wrote when the file was gone at decoding time.
    sql(
        tmp_path / "index",
        "UPDATE videos SET status = 'failed', reason = 'no such file', feature_key = NULL, "
        "descriptor = NULL, fingerprint = ?",
        (legacy_fingerprint(clip),),
    )
    with open_lib(tmp_path / "index") as lib:
        s = lib.index()
        assert (s.indexed, s.failed, s.encoded) == (1, 0, 1)


def test_a_plain_run_repairs_missing_or_damaged_feature_files(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    a = small_clip(videos / "a.mp4", 0, seed=1)
    b = small_clip(videos / "b.mp4", 1, seed=2)
    small_clip(videos / "c.mp4", 2, seed=3)
    index = tmp_path / "index"
    with open_lib(index) as lib:
        lib.add_folder(videos)
        lib.index()
        fa = np.array(lib.features(a).features)
        good = catalog_rows(index)
        key_a, key_b = (lib._catalog.get(str(p)).feature_key for p in (a, b))
        feats = index / "features" / key_a[:2] / f"{key_a}.f16.npy"
        feats.unlink()
        times = index / "features" / key_b[:2] / f"{key_b}.time.npy"
        times.write_bytes(times.read_bytes()[:140])  # cut short
        with pytest.raises(LibraryCorruptError, match="avr index"):
            lib.features(a)
        with pytest.raises(LibraryCorruptError):
            lib.features(b)
        s = lib.index()
        assert (s.repaired, s.encoded, s.unchanged) == (2, 2, 1)
        np.testing.assert_array_equal(lib.features(a).features, fa)
        assert lib.features(b).features.shape[0] == 16
        assert lib.index().encoded == 0
    assert catalog_rows(index) == good


def test_a_damaged_descriptor_is_derived_again(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    a = small_clip(videos / "a.mp4", 0, seed=1)
    small_clip(videos / "b.mp4", 1, seed=2)
    index = tmp_path / "index"
    with open_lib(index) as lib:
        lib.add_folder(videos)
        lib.index()
        good = np.frombuffer(lib._catalog.get(str(a)).descriptor, np.float32).copy()
    sql(index, "UPDATE videos SET descriptor = ? WHERE path = ?", (b"\0" * 6, str(a)))
    with open_lib(index) as lib:
        with pytest.raises(LibraryCorruptError, match="descriptor"):
            lib._catalog.descriptors()
        s = lib.index()
        assert (s.repaired, s.encoded) == (1, 0)  # from the stored features, no decoding
        again = np.frombuffer(lib._catalog.get(str(a)).descriptor, np.float32)
        assert lib._catalog.descriptors()[1].shape == (2, good.size)
    np.testing.assert_allclose(again, good, atol=2e-3)  # float16-stored features


def test_a_bad_feature_key_in_the_catalog_is_refused_and_repaired(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    a = small_clip(videos / "a.mp4")
    index = tmp_path / "index"
    with open_lib(index) as lib:
        lib.add_folder(videos)
        lib.index()
    outside = tmp_path / "secret.f16.npy"
    outside.write_bytes(b"not for the library")
    sql(index, "UPDATE videos SET feature_key = ?", ("../../secret",))
    with open_lib(index) as lib:
        with pytest.raises(LibraryCorruptError, match="feature key"):
            lib.features(a)
        s = lib.index()
        assert (s.repaired, s.encoded) == (1, 1)
        assert lib.features(a).features.shape[0] == 16
        assert lib._catalog.get(str(a)).feature_key == feature_key(fingerprint(a), THUMB.version)
    assert outside.read_bytes() == b"not for the library"


def test_a_truncated_video_is_indexed_as_damaged(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    frames = render_frames(0, speed_warp(150, (1.0,)), (64, 48), ClipStyle(seed=1))
    whole = tmp_path / "whole.mp4"
    # Index at the front (faststart), so the part before the cut stays decodable.
    write_video_av(
        whole, frames, 15.0, codec="mpeg4", gop=15, container_options={"movflags": "faststart"}
    )
    data = whole.read_bytes()
    cut = videos / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    shutil.copyfile(whole, videos / "whole.mp4")
    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        lib.index()
        shutil.copy2(cut, videos / "z copy of cut.mp4")
        s = lib.index()
        assert s.encoded == 0  # the copy inherits everything, the damage too
        entries = {Path(e.path).name: e for e in lib.entries()}
    e = entries["cut.mp4"]
    assert e.status == "indexed" and e.damaged_at is not None
    assert 1.5 < e.damaged_at < 3.0
    assert e.duration == pytest.approx(10.0, abs=0.1)  # the nominal length stays
    assert e.reason.startswith(f"damaged: readable to {e.damaged_at:.1f} s of 10.0 s")
    assert "\n" not in e.reason
    assert e.n_features == decoded_frames(cut)
    assert entries["z copy of cut.mp4"].damaged_at == e.damaged_at
    assert entries["whole.mp4"].damaged_at is None and entries["whole.mp4"].n_features == 100


def _make_legacy(index: Path, version: str) -> None:
    """Turn a catalog into what the previous version wrote: partial fingerprints, keys
    derived from them (copies shared one key), files under those keys."""
    feats = index / "features"
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        rows = db.execute("SELECT path, feature_key FROM videos").fetchall()
        for path, key in rows:
            fp = legacy_fingerprint(path)
            old = feature_key(fp, version)
            for f in (feats / key[:2]).glob(f"{key}.*"):
                (feats / old[:2]).mkdir(exist_ok=True)
                os.replace(f, feats / old[:2] / f.name.replace(key, old))
            db.execute(
                "UPDATE videos SET fingerprint = ?, feature_key = ? WHERE path = ?",
                (fp, old, path),
            )
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        db.commit()
    finally:
        db.close()


def test_an_old_catalog_is_hashed_once_and_shared_rows_encoded_again(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    unique = small_clip(videos / "unique.mp4", 1, seed=5)
    for name in ("copy 1.mp4", "copy 2.mp4"):
        small_clip(videos / name, 0, seed=1)
    index = tmp_path / "index"
    with open_lib(index) as lib:
        lib.add_folder(videos)
        lib.index()
        f_unique = np.array(lib.features(unique).features)
    fresh = catalog_rows(index)
    _make_legacy(index, THUMB.version)
    assert all(not r[5].startswith("b3:") for r in catalog_rows(index))
    with open_lib(index) as lib:
        s = lib.index()
        # The unique file keeps its features; the copies shared a partial fingerprint,
        # so theirs may be another file's: encoded again (once, then reused).
        assert (s.encoded, s.indexed) == (1, 3)
        np.testing.assert_array_equal(lib.features(unique).features, f_unique)
        again = lib.index()
        assert (again.encoded, again.unchanged) == (0, 3)
    # The same catalog a fresh index of the new version writes (the stat of a file is
    # unchanged, the schema upgrade adds only a NULL column).
    assert catalog_rows(index) == fresh


def test_a_touched_file_costs_a_hash_not_a_decode(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    a = small_clip(videos / "a.mp4")
    small_clip(videos / "b.mp4", 1, seed=2)
    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        lib.index()
        st = a.stat()
        os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        s = lib.index()
        assert (s.encoded, s.unchanged, s.indexed) == (0, 1, 2)
        assert lib._catalog.get(str(a)).mtime_ns == st.st_mtime_ns + 10**9


def test_a_file_changed_while_being_indexed_is_not_stored_under_its_old_hash(
    tmp_path: Path,
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    clip = small_clip(videos / "clip.mp4", 0, n=24, seed=1)
    longer = small_clip(tmp_path / "longer.mp4", 1, n=45, seed=2)

    def rewrite(done: int, total: int, message: str) -> None:
        # After the scan hashed it, before it is decoded: the user saves a new version.
        if message == str(clip) and clip.stat().st_size != longer.stat().st_size:
            shutil.copyfile(longer, clip)

    with open_lib(tmp_path / "index") as lib:
        lib.add_folder(videos)
        s = lib.index(progress=rewrite)
        assert (s.indexed, s.failed) == (0, 1)
        ((_, reason),) = lib.status().failures
        assert reason.startswith(READ_ERROR) and "changed" in reason
        s = lib.index()
        assert (s.indexed, s.failed, s.encoded) == (1, 0, 1)
        assert lib.features(clip).features.shape[0] == 30  # 45 frames at 15 fps
        assert lib._catalog.get(str(clip)).fingerprint == fingerprint(longer)
