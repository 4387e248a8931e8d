"""Atomic writes: all or nothing, and files get ordinary permissions."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from avr_gui.core.atomic import (
    atomic_path,
    is_disk_full,
    remove_stale_temps,
    temp_prefix,
    write_bytes,
    write_text,
)
from avr_gui.core.errors import DiskFullError


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


# ----------------------------------------------------------------- stale temporaries


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_name_is_specific_to_avr_studio(tmp_path):
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.name.startswith(".clip.mp4.avr-tmp-") and tmp.name.endswith(".mp4")
        assert f"-{os.getpid()}-" in tmp.name
        tmp.write_bytes(b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_remove_stale_temps_only_touches_dead_or_old_avr_temporaries(tmp_path):
    prefix_dead = temp_prefix("clip.mp4").replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")
    dead = tmp_path / f"{prefix_dead}ab12cd34.mp4"
    live = tmp_path / f"{temp_prefix('clip.mp4')}ef56gh78.mp4"  # this process: alive
    old_live = tmp_path / f"{temp_prefix('clip.mp4')}zz99yy88.mp4"
    other_target = tmp_path / f"{prefix_dead.replace('.clip.mp4.', '.other.mp4.')}aa11bb22.mp4"
    foreign = [
        tmp_path / ".clip.mp4.k2j3h4g5.mp4",  # an old-style or another program's temporary
        tmp_path / ".hidden",
        tmp_path / "clip.mp4",
        tmp_path / ".clip.mp4.avr-tmp-notahost-12-abc.mp4",
    ]
    for p in [dead, live, old_live, other_target, *foreign]:
        p.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old_live, (two_hours_ago, two_hours_ago))
    for p in foreign:
        os.utime(p, (two_hours_ago, two_hours_ago))

    removed = remove_stale_temps(tmp_path, "clip.mp4")

    assert sorted(removed) == sorted([dead, old_live])
    assert live.exists() and other_target.exists() and all(p.exists() for p in foreign)
    assert remove_stale_temps(tmp_path) == [other_target]  # every target's
    assert remove_stale_temps(tmp_path / "missing") == []


def test_a_long_target_name_still_gets_a_temporary_that_is_found(tmp_path):
    name = "x" * 230 + ".mp4"
    with pytest.raises(RuntimeError), atomic_path(tmp_path / name) as tmp:
        tmp.write_bytes(b"half")
        shutil.copy(tmp, tmp.with_name(tmp.name.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-")))
        raise RuntimeError("killed")
    assert len(remove_stale_temps(tmp_path, name)) == 1
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- disk full


@pytest.fixture
def tiny_fs(mount_tmpfs):
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    return mount_tmpfs("1m")


def test_numpy_short_write_on_a_full_disk_names_the_file(tiny_fs):
    target = tiny_fs / "features.npy"
    with pytest.raises(DiskFullError) as info:
        with atomic_path(target, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.zeros(400_000), allow_pickle=False)  # 3.2 MB into 1 MB
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{target}: disk full (needed over ")
    assert "MB free); free some space or choose another folder" in message
    assert list(tiny_fs.iterdir()) == []


def test_enospc_from_a_plain_write_is_disk_full(tiny_fs):
    target = tiny_fs / "big.bin"
    with pytest.raises(DiskFullError, match=r"big\.bin: disk full"):
        write_bytes(target, bytes(2_000_000))
    assert list(tiny_fs.iterdir()) == []


def test_other_errors_are_not_called_disk_full():
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    wrapped = RuntimeError("encoder failed")
    wrapped.__cause__ = OSError("1536000 requested and 1023936 written")
    assert is_disk_full(wrapped)
