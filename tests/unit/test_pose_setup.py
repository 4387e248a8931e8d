"""`make setup` installs the pose models, and offline it warns instead of failing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make_models(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the Makefile's ``models`` step with this interpreter's venv (never rebuilt)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = Path(sys.prefix)
    if not (venv / "bin" / "avr").exists():
        pytest.skip(f"{venv} has no avr entry point")
    # -o: treat the venv stamp as up to date, so the test never reinstalls the venv.
    cmd = ["make", "-s", "-C", str(ROOT), f"VENV={venv}", "-o", f"{venv}/.avr-installed"]
    full = {**os.environ, "AVR_MODELS_DIR": str(tmp_path / "models"), **env}
    return subprocess.run(
        [*cmd, "models"], capture_output=True, text=True, timeout=300, env=full, check=False
    )


def test_make_models_offline_warns_and_succeeds(tmp_path: Path) -> None:
    # PIP_NO_INDEX: pip sees no package index, as on a machine without a network.
    r = _make_models(tmp_path, PIP_NO_INDEX="1", PIP_FIND_LINKS="")
    assert r.returncode == 0, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("warning: pose models not installed")
    assert "body pose features are disabled" in last and "avr models install pose" in last
    assert not any((tmp_path / "models").glob("*.tflite"))


def test_make_models_skips_installed_models(pose_models: Path, tmp_path: Path) -> None:
    # The real, verified files (from the session fixture); offline, so a download would fail.
    r = _make_models(tmp_path, AVR_MODELS_DIR=str(pose_models), PIP_NO_INDEX="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"pose models ready ({pose_models})"
    assert "warning" not in r.stderr
