"""The check that names missing system libraries before Qt would abort (no Qt here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from avr_gui.gui.system_libs import (
    check_display_libraries,
    missing_from_ldd,
    missing_libraries,
    missing_message,
    xcb_plugin,
)

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /opt/Qt/lib/libQt6XcbQpa.so.6 (0x00007f3e)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => not found
\tlibweird.so.9 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3e)
"""


def test_ldd_output_is_read_for_what_is_not_found() -> None:
    missing = missing_from_ldd(LDD_OUTPUT)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libweird.so.9"]
    text = missing_message(missing)
    assert "\n" not in text
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in text
    assert "libweird.so.9" in text


def test_this_machine_lacks_nothing_qt_needs() -> None:
    # The GUI tests run here, so every library the X11 plugin loads must be present.
    if xcb_plugin() is None or shutil.which("ldd") is None:
        pytest.skip("no X11 plugin or no ldd here")
    assert missing_libraries() == []
    assert check_display_libraries({}) is None


def test_headless_platforms_need_no_check() -> None:
    assert check_display_libraries({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not shutil.which("gcc") or not shutil.which("ldd"),
    reason="needs Linux, gcc and ldd",
)
def test_a_library_with_a_missing_dependency_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real shared object linked against a library the loader cannot find: what Qt's
    # plugin looks like on a machine without, say, libxcb-cursor0.
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int dep(void);\nint f(void) { return dep(); }\n")
    soname = "libavr-test-missing.so.1"
    dep = tmp_path / soname
    cc = ["gcc", "-shared", "-fPIC", "-o"]
    subprocess.run([*cc, str(dep), str(tmp_path / "dep.c"), f"-Wl,-soname,{soname}"], check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run([*cc, str(plugin), str(tmp_path / "plugin.c"), str(dep)], check=True)
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    assert missing_libraries(plugin) == [soname]
    # The control: once the loader can find it, nothing is reported.
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    assert missing_libraries(plugin) == []


def test_the_launcher_starts_the_app_after_the_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "avr_gui.gui.launch", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("AVR Studio ")
