"""Fixtures shared by the unit, e2e and GUI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from avr_gui.core.features.pose.models import ModelInstallError, download_wheel, install_pose_models


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
