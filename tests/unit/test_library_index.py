"""Indexing a library: bad files, incremental runs, moves, copies, encoders, cancel, locks."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.errors import InputError
from avr_gui.core.features import get_encoder
from avr_gui.core.jobs import Cancelled, CancelToken
from avr_gui.core.library import (
    EncoderMismatchError,
    Library,
    LibraryBusyError,
    LibraryCorruptError,
    LibraryError,
)

THUMB = get_encoder("thumb16")


def make_clip(path: Path, action: int = 0, n: int = 24, seed: int = 1) -> Path:
    """A tiny generated video (decodes in milliseconds)."""
    frames = render_frames(action, speed_warp(n, (1.0,)), (64, 48), ClipStyle(seed=seed))
    write_video(path, frames, 15.0)
    return path


def catalog_rows(index: Path) -> list[tuple]:
    """Every catalog row, sorted: what two runs must agree on."""
    db = sqlite3.connect(index / "catalog.sqlite")
    try:
        return db.execute("SELECT * FROM videos ORDER BY path").fetchall()
    finally:
        db.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "vidéos 日本"
    d.mkdir()
    make_clip(d / "a clip ü.mp4", 0, seed=1)
    make_clip(d / "b.mp4", 0, seed=2)
    sub = d / "sub"
    sub.mkdir()
    make_clip(sub / "c.mp4", 1, seed=3)
    (d / "notes.txt").write_text("not a video and not named like one")
    (d / "fake.mp4").write_text("plain text with a video suffix")
    (d / "empty.mp4").write_bytes(b"")
    good = (d / "b.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) // 3])
    (d / ".hidden.mp4").write_bytes(good)
    return d


def open_lib(tmp_path: Path, name: str = "index") -> Library:
    return Library.open(tmp_path / name, encoder=THUMB)


def test_bad_files_are_recorded_and_never_abort(tmp_path: Path, folder: Path) -> None:
    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        seen: list[str] = []
        s = lib.index(progress=lambda d, t, m: seen.append(m))
        st = lib.status()
        entries = {Path(e.path).name: e for e in lib.entries()}
    assert (s.videos, s.indexed, s.failed, s.pending, s.encoded) == (6, 3, 3, 0, 3)
    assert (st.videos, st.indexed, st.failed, st.pending) == (6, 3, 3, 0)
    reasons = {Path(p).name: r for p, r in st.failures}
    assert set(reasons) == {"fake.mp4", "empty.mp4", "truncated.mp4"}
    assert "empty" in reasons["empty.mp4"].lower()
    assert all(r for r in reasons.values())
    assert "notes.txt" not in entries and ".hidden.mp4" not in entries
    good = entries["a clip ü.mp4"]
    assert good.status == "indexed" and good.reason is None
    assert (good.width, good.height) == (64, 48)
    assert good.n_features == 16  # 24 frames at 15 fps sampled at 10 fps
    assert good.duration == pytest.approx(1.6, abs=0.1)
    assert any("a clip ü.mp4" in m for m in seen)  # progress names the file


def test_unchanged_rerun_costs_nothing_and_keeps_the_catalog(tmp_path: Path, folder: Path) -> None:
    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        lib.index()
        before = catalog_rows(tmp_path / "index")
        s = lib.index()
    assert (s.unchanged, s.encoded, s.removed, s.moved) == (6, 0, 0, 0)
    assert catalog_rows(tmp_path / "index") == before


def test_changed_moved_copied_and_deleted_files(tmp_path: Path, folder: Path) -> None:
    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        lib.index()
        old_c = lib.features(folder / "sub" / "c.mp4")
        make_clip(folder / "b.mp4", 1, n=30, seed=9)  # changed content
        (folder / "sub" / "c.mp4").rename(folder / "c moved.mp4")  # moved
        (folder / "empty.mp4").unlink()  # deleted
        shutil.copy2(folder / "a clip ü.mp4", folder / "sub" / "copy.mp4")  # copy
        s = lib.index()
        names = {Path(e.path).name: e for e in lib.entries()}
        moved = lib.features(folder / "c moved.mp4")
        b = lib.features(folder / "b.mp4")
    assert (s.moved, s.removed, s.encoded) == (1, 1, 1)  # only b.mp4 was decoded again
    assert "empty.mp4" not in names and "c.mp4" not in names
    assert names["copy.mp4"].status == "indexed"
    assert names["b.mp4"].n_features == 20
    assert b.features.shape[0] == 20
    np.testing.assert_array_equal(moved.features, old_c.features)
    # The result equals a fresh index of the folders as they are now.
    with open_lib(tmp_path, "fresh") as fresh:
        fresh.add_folder(folder)
        fresh.index()
    assert catalog_rows(tmp_path / "fresh") == catalog_rows(tmp_path / "index")


def test_two_folders_with_the_same_file_name(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    make_clip(one / "clip.mp4", 0, seed=1)
    make_clip(two / "clip.mp4", 1, seed=2)
    with open_lib(tmp_path) as lib:
        lib.add_folder(one)
        lib.add_folder(two)
        lib.add_folder(one)  # adding twice is harmless
        s = lib.index()
        assert s.indexed == 2
        fa, fb = lib.features(one / "clip.mp4"), lib.features(two / "clip.mp4")
        assert not np.array_equal(fa.features, fb.features)
        lib.remove_folder(two)
        s = lib.index()
        assert (s.videos, s.removed) == (1, 1)
        assert [Path(f).name for f in lib.folders] == ["one"]


def test_encoder_mixing_is_refused_unless_reindexed(tmp_path: Path, folder: Path) -> None:
    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        lib.index()

    class Other(type(THUMB)):
        version = "thumb16-other"

    with pytest.raises(EncoderMismatchError, match="Re-index explicitly"):
        Library.open(tmp_path / "index", encoder=Other())
    # Opening without an encoder adopts the index's own.
    with Library.open(tmp_path / "index") as lib:
        assert lib.encoder_version == THUMB.version
        assert lib.status().indexed == 3
    with Library.open(tmp_path / "index", encoder=Other(), reindex=True) as lib:
        assert lib.status().pending == 6
        s = lib.index()
        assert (s.indexed, s.failed, s.encoded) == (3, 3, 3)
        assert lib.encoder_version == "thumb16-other"


def test_cancelled_run_resumes_to_the_same_catalog(tmp_path: Path, folder: Path) -> None:
    with open_lib(tmp_path, "reference") as ref:
        ref.add_folder(folder)
        ref.index()
    token = CancelToken()

    def cancel_after_first(done: int, total: int, message: str) -> None:
        if done == 1:
            token.cancel()

    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        with pytest.raises(Cancelled):
            lib.index(progress=cancel_after_first, cancel=token)
        assert lib.status().pending >= 4
        s = lib.index()
        assert s.pending == 0
    assert catalog_rows(tmp_path / "index") == catalog_rows(tmp_path / "reference")


def test_a_second_indexer_is_refused(tmp_path: Path, folder: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    with open_lib(tmp_path) as lib:
        lib.add_folder(folder)
        with open(tmp_path / "index" / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            with pytest.raises(LibraryBusyError):
                lib.index()
        assert lib.index().indexed == 3


def test_bad_index_folders_give_typed_errors(tmp_path: Path) -> None:
    afile = tmp_path / "a file"
    afile.write_text("x")
    with pytest.raises(LibraryError, match="not a folder"):
        Library.open(afile)
    with pytest.raises(LibraryError, match="cannot create"):
        Library.open(afile / "index")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "catalog.sqlite").write_bytes(b"this is no database" * 100)
    with pytest.raises(LibraryCorruptError):
        Library.open(bad)
    with open_lib(tmp_path) as lib, pytest.raises(InputError, match="not a folder"):
        lib.add_folder(tmp_path / "missing")


def test_a_missing_folder_keeps_its_rows(tmp_path: Path) -> None:
    d = tmp_path / "drive"
    d.mkdir()
    make_clip(d / "x.mp4")
    with open_lib(tmp_path) as lib:
        lib.add_folder(d)
        lib.index()
        d.rename(tmp_path / "unplugged")
        s = lib.index()
        assert (s.indexed, s.removed) == (1, 0)
