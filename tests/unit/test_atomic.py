"""Atomic writes: all or nothing, and files get ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from avr_gui.core.atomic import atomic_path, write_text


def test_new_file_gets_umask_permissions_not_private(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    target = tmp_path / "out.json"
    write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert target.read_text() == "{}"


def test_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "map.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "video.mp4"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]
