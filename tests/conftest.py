"""Fixtures shared by the unit, e2e and GUI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from avr_gui.core.features.pose.models import ModelInstallError, download_wheel, install_pose_models

#: Fixtures that download from the package index: their users are ``network`` tests.
_NETWORK_FIXTURES = {"pose_models", "mediapipe_wheel"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the users of downloading fixtures ``network`` (and ``slow``: a 36 MB wheel).

    Derived from the fixtures a test asks for, so a new test cannot forget the marker.
    """
    for item in items:
        if _NETWORK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.network)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_user_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Isolate every test from the developer's own config file and ``AVR_*`` settings.

    A test that wants a setting passes it (``AVR_CONFIG`` to a file of its own, or the
    variable); subprocesses inherit this environment, so the CLI tests are isolated too.
    """
    monkeypatch.setenv("AVR_CONFIG", str(tmp_path_factory.getbasetemp() / "no-user-config.toml"))
    for name in (
        "AVR_FEATURES_ENCODER",
        "AVR_FEATURES_FPS",
        "AVR_FEATURES_SIZE",
        "AVR_QUERY_TOP",
        "AVR_QUERY_CANDIDATES",
        "AVR_VERDICT_ALIGNABLE",
        "AVR_VERDICT_UNLIKELY",
        "AVR_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pose_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BlazePose models installed from the real wheel into a test-session folder."""
    base = tmp_path_factory.getbasetemp()
    folder = base / "pose-models"
    wheels = sorted((base / "mediapipe-wheel").glob("mediapipe-*.whl"))
    try:
        if not wheels:
            (base / "mediapipe-wheel").mkdir(exist_ok=True)
            wheels = [download_wheel(base / "mediapipe-wheel", timeout=300)]
        install_pose_models(folder, wheel=wheels[0])
    except ModelInstallError as exc:
        pytest.skip(f"BlazePose models could not be installed (offline?): {exc}")
    return folder


def _mount(args: list[str]) -> str | None:
    """Run mount(8); None when it worked, else why not (for a clean skip)."""
    if shutil.which("mount") is None:
        return "mount(8) is not installed"
    done = subprocess.run(["mount", *args], capture_output=True)
    return None if done.returncode == 0 else done.stderr.decode(errors="replace").strip()


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Factory: ``mount_tmpfs("1m")`` is a fresh size-limited tmpfs (a disk that fills up).

    Root only; the test is skipped cleanly where mounting is not allowed (CI runners,
    containers). Unmounted (lazily, so an open file cannot block it) after the test.
    """
    mounted: list[Path] = []

    def make(size: str) -> Path:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root")
        where = tmp_path / f"tmpfs{len(mounted)}"
        where.mkdir()
        why = _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
        if why is not None:
            pytest.skip(f"cannot mount a tmpfs here: {why}")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def mount_readonly(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Factory: ``mount_readonly(folder)`` is a read-only bind mount of ``folder``.

    Really read-only, even for root (a permission bit is not). Root only; skipped
    cleanly where mounting is not allowed; unmounted lazily after the test.
    """
    mounted: list[Path] = []

    def make(src: Path) -> Path:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip("a read-only bind mount needs root")
        where = tmp_path / f"readonly{len(mounted)}"
        where.mkdir()
        why = _mount(["--bind", str(src), str(where)])
        if why is not None:
            pytest.skip(f"cannot bind-mount here: {why}")
        mounted.append(where)
        why = _mount(["-o", "remount,ro,bind", str(where)])
        if why is not None:
            pytest.skip(f"cannot remount read-only here: {why}")
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
