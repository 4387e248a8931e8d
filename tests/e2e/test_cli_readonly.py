"""Read commands (``avr status``, ``avr query``) never create or change anything.

Regression tests for issue 17, finding 4: a mistyped ``--index`` used to create a
library there (pinned to the default encoder), and a library on a read-only mount could
not be queried or even statused.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video

# SQLite's own side files: a reader may leave them beside a catalog in a writable folder
# (that is how WAL readers coordinate); they hold no library data.
_SQLITE_SIDE = ("catalog.sqlite-wal", "catalog.sqlite-shm")


def _clip(path: Path, action: int, n: int, seed: int) -> None:
    frames = render_frames(action, speed_warp(n, (1.0,)), (96, 72), ClipStyle(seed=seed))
    write_video(path, frames, 15)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of six clips and its thumb16 index."""
    folder = tmp_path_factory.mktemp("videos ro")
    for k in range(6):
        _clip(folder / f"clip {k}.mp4", k % 2, 30 + 3 * k, seed=k)
    idx = tmp_path_factory.mktemp("index ro") / "idx"
    from avr_gui.cli import main

    assert main(["index", str(folder), "--index", str(idx), "--backend", "thumb16"]) == 0
    return folder, idx


def _snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root`` (but SQLite's side files): size and content hash."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name not in _SQLITE_SIDE:
            out[str(p.relative_to(root))] = (
                p.stat().st_size,
                hashlib.blake2b(p.read_bytes(), digest_size=8).hexdigest(),
            )
    return out


@pytest.mark.parametrize("command", ["status", "query"])
def test_read_command_on_a_non_library_creates_nothing(
    avr, library: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    folder, _ = library
    for target in (tmp_path / "typo", tmp_path / "plain folder"):
        if target.name == "plain folder":
            target.mkdir()
            (target / "notes.txt").write_text("mine")
        before = sorted(p.name for p in target.iterdir()) if target.exists() else None
        args = (
            ["--index", target]
            if command == "status"
            else [folder / "clip 0.mp4", "--index", target]
        )
        r = avr(command, *args)
        assert r.code == 2, r.err
        assert "not a library" in r.err and len(r.err.strip().splitlines()) == 1, r.err
        after = sorted(p.name for p in target.iterdir()) if target.exists() else None
        assert after == before


def test_read_commands_change_nothing(avr, library: tuple[Path, Path]) -> None:
    folder, idx = library
    before = _snapshot(idx)
    r = avr("status", "--index", idx, "--json")
    assert r.code == 0, r.err and r.json()["indexed"] == 6
    r = avr("query", folder / "clip 0.mp4", "--index", idx, "--top", "3", "--json")
    assert r.code == 0, r.err
    # A query from outside the library (encoded, not stored) adds nothing either.
    outside = idx.parent / "outside.mp4"
    _clip(outside, 0, 33, seed=40)
    r = avr("query", outside, "--index", idx, "--top", "3", "--json")
    assert r.code == 0, r.err
    assert _snapshot(idx) == before


def test_query_with_another_encoder_is_refused_without_writing(
    avr, library: tuple[Path, Path]
) -> None:
    folder, idx = library
    before = _snapshot(idx)
    r = avr("query", folder / "clip 0.mp4", "--index", idx, "--backend", "pose")
    assert r.code == 2 and "thumb16" in r.err, r.err
    assert _snapshot(idx) == before


def test_library_on_a_read_only_mount_can_be_queried(
    avr, library: tuple[Path, Path], tmp_path: Path, mount_readonly
) -> None:
    folder, idx = library
    ref_status = avr("status", "--index", idx, "--json")
    ref_query = avr("query", folder / "clip 1.mp4", "--index", idx, "--top", "3", "--json")
    assert ref_status.code == 0 and ref_query.code == 0
    # A copy without SQLite's side files, as a cleanly closed library leaves it.
    src = tmp_path / "copy"
    shutil.copytree(idx, src, ignore=shutil.ignore_patterns(*_SQLITE_SIDE))
    mnt = mount_readonly(src)
    with pytest.raises(OSError):
        (mnt / "probe").write_text("x")  # really read-only, even for root
    st = avr("status", "--index", mnt, "--json")
    assert st.code == 0, st.err
    assert {k: st.json()[k] for k in ("videos", "indexed", "encoder")} == {
        k: ref_status.json()[k] for k in ("videos", "indexed", "encoder")
    }
    q = avr("query", folder / "clip 1.mp4", "--index", mnt, "--top", "3", "--json")
    assert q.code == 0, q.err
    assert [x["path"] for x in q.json()["results"]] == [
        x["path"] for x in ref_query.json()["results"]
    ]
    r = avr("index", "--index", mnt)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
