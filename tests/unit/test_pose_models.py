"""Installing the BlazePose models from the MediaPipe wheel, and what happens without them."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from avr_gui.core.errors import MissingFileError
from avr_gui.core.features import BACKENDS, get_encoder
from avr_gui.core.features.pose.models import (
    BLAZEPOSE_FILES,
    ModelInstallError,
    ModelsMissingError,
    blazepose_model_paths,
    download_wheel,
    extract_pose_models,
    install_pose_models,
    list_models,
    pose_models_intact,
)


@pytest.fixture(scope="session")
def mediapipe_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real mediapipe 0.10.21 wheel, downloaded once per test session."""
    folder = tmp_path_factory.getbasetemp() / "mediapipe-wheel"
    got = sorted(folder.glob("mediapipe-*.whl"))
    if got:
        return got[0]
    folder.mkdir(exist_ok=True)
    try:
        return download_wheel(folder, timeout=300)
    except ModelInstallError as exc:
        pytest.skip(f"cannot download the mediapipe wheel (offline?): {exc}")


def _avr(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "avr_gui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_install_from_the_real_wheel(mediapipe_wheel: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mödels ü"
    seen: list[str] = []
    paths = install_pose_models(
        folder, wheel=mediapipe_wheel, progress=lambda d, t, m: seen.append(m)
    )
    assert [p.name for p in paths] == [f.name for f in BLAZEPOSE_FILES]
    assert pose_models_intact(folder)
    assert blazepose_model_paths(folder) == tuple(paths)
    assert seen[-1] == "pose models installed"
    # Only the two model files were written (no temporary leftovers, no other wheel content).
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in BLAZEPOSE_FILES)
    rows = list_models(folder)
    assert all(r["intact"] and r["bytes"] > 1_000_000 for r in rows)
    # A second install finds them intact and does nothing.
    seen.clear()
    install_pose_models(folder, progress=lambda d, t, m: seen.append(m))
    assert seen == ["pose models already installed"]
    # A damaged file is noticed and repaired.
    paths[1].write_bytes(b"broken")
    assert not pose_models_intact(folder)
    assert not list_models(folder)[1]["intact"]
    install_pose_models(folder, wheel=mediapipe_wheel)
    assert pose_models_intact(folder)


def test_missing_models_say_how_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "empty"))
    with pytest.raises(ModelsMissingError, match="avr models install pose"):
        blazepose_model_paths()
    ok, why = BACKENDS["pose-blazepose"].availability()
    assert not ok and "avr models install pose" in why
    ok, why = BACKENDS["pose-fused"].availability()
    assert not ok and "avr models install pose" in why
    with pytest.raises(ModelsMissingError, match="avr models install pose"):
        get_encoder("pose-blazepose")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_bad_wheels_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "models"
    not_zip = tmp_path / "x.whl"
    not_zip.write_bytes(b"this is no zip file")
    with pytest.raises(ModelInstallError, match="not a readable wheel"):
        extract_pose_models(not_zip, out)
    lacking = _zip(tmp_path / "lacking.whl", {"mediapipe/__init__.py": b""})
    with pytest.raises(ModelInstallError, match="has no mediapipe/modules"):
        extract_pose_models(lacking, out)
    forged = _zip(tmp_path / "forged.whl", {f.member: b"not the model" for f in BLAZEPOSE_FILES})
    with pytest.raises(ModelInstallError, match="digest mismatch"):
        extract_pose_models(forged, out)
    assert not any(out.iterdir())  # nothing half-installed
    with pytest.raises(MissingFileError, match="no such wheel"):
        install_pose_models(out, wheel=tmp_path / "absent.whl")


def test_unwritable_model_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # The check comes before any download, so this fails fast even offline.
    with pytest.raises(ModelInstallError, match="cannot create the model folder"):
        install_pose_models(blocker / "models")


def test_cli_models_list_and_install(mediapipe_wheel: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cli models"
    r = _avr("models", "list", "--dir", folder, "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["models"]
    assert [x["installed"] for x in rows] == [False, False]
    r = _avr("models", "list", "--dir", folder)
    assert "missing" in r.stdout and "avr models install pose" in r.stdout
    r = _avr("models", "install", "pose", "--dir", folder, "--wheel", mediapipe_wheel, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["files"]) == 2
    r = _avr("models", "list", "--dir", folder, "--json")
    assert all(x["intact"] for x in json.loads(r.stdout)["models"])
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"nope")
    r = _avr("models", "install", "pose", "--dir", tmp_path / "other", "--wheel", bad, "--force")
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("avr: error:") and "not a readable wheel" in last
