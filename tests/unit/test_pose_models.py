"""Installing the BlazePose models from the MediaPipe wheel, and what happens without them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from avr_gui.cli import main as cli_main
from avr_gui.core.errors import MissingFileError
from avr_gui.core.features import BACKENDS, get_encoder
from avr_gui.core.features.pose import models
from avr_gui.core.features.pose.models import (
    BLAZEPOSE_FILES,
    ModelInstallError,
    ModelsDamagedError,
    ModelsMissingError,
    blazepose_model_paths,
    download_wheel,
    extract_pose_models,
    install_pose_models,
    list_models,
    pose_models_intact,
    pose_models_status,
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


# --- Offline tests: fake model files whose digests are patched into the pinned table ---


@pytest.fixture(autouse=True)
def _fresh_verification_cache():
    models.clear_verification_cache()
    yield
    models.clear_verification_cache()


@pytest.fixture
def fake_table(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Pin the digests of small fake files in place of the real ones; returns the bytes."""
    blobs = {f.name: f"fake {f.name}".encode() * 100 for f in models.BLAZEPOSE_FILES}
    table = tuple(
        models.ModelFile(f.name, f.member, hashlib.sha256(blobs[f.name]).hexdigest())
        for f in models.BLAZEPOSE_FILES
    )
    monkeypatch.setattr(models, "BLAZEPOSE_FILES", table)
    return blobs


def _write(folder: Path, blobs: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
        out.append(folder / name)
    return out


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No network: any download attempt is recorded and fails like pip offline."""
    calls: list[str] = []

    def refuse(dest, *, timeout: float = 600.0, cancel=None, on_bytes=None):
        calls.append(str(dest))
        raise ModelInstallError("pip could not download mediapipe==0.10.21 (exit 1): offline")

    monkeypatch.setattr(models, "download_wheel", refuse)
    return calls


def test_install_skips_present_verified_models(
    fake_table: dict[str, bytes], offline: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    folder = tmp_path / "models"
    paths = _write(folder, fake_table)
    before = [p.stat().st_mtime_ns for p in paths]
    seen: list[str] = []
    got = install_pose_models(folder, progress=lambda d, t, m: seen.append(m))
    assert got == paths and seen == ["pose models already installed"]
    assert [p.stat().st_mtime_ns for p in paths] == before  # nothing rewritten
    assert offline == []
    # The CLI step `make setup` runs: one status line, exit 0, no download.
    monkeypatch.setenv("AVR_MODELS_DIR", str(folder))
    for _ in range(2):
        assert cli_main(["models", "install", "pose", "--if-missing"]) == 0
        assert capsys.readouterr().out.strip() == f"pose models ready ({folder})"
    assert offline == []
    # --force (and a damaged file) does go to the network.
    with pytest.raises(ModelInstallError, match="offline"):
        install_pose_models(folder, force=True)
    assert len(offline) == 1


def test_if_missing_installs_when_missing_and_fails_cleanly_offline(
    fake_table: dict[str, bytes], offline: list[str], tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "empty"))
    assert cli_main(["models", "install", "pose", "--if-missing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("avr: error:") and "offline" in err[-1]
    assert len(offline) == 1


def test_damaged_file_is_refused_at_load(
    fake_table: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "models"
    det, lm = _write(folder, fake_table)
    monkeypatch.setenv("AVR_MODELS_DIR", str(folder))
    assert blazepose_model_paths() == (det, lm)
    # Same size, other bytes, later mtime: the cached "intact" answer must not hide it.
    data = bytearray(lm.read_bytes())
    data[0] ^= 0xFF
    lm.write_bytes(bytes(data))
    os.utime(lm, ns=(lm.stat().st_atime_ns, lm.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(ModelsDamagedError) as info:
        blazepose_model_paths()
    message = str(info.value)
    assert isinstance(info.value, ModelsMissingError)
    assert "\n" not in message and str(lm) in message and "damaged" in message
    assert "run `avr models install pose` again" in message
    ok, why = pose_models_status()
    assert not ok and why == message
    ok, why = BACKENDS["pose-blazepose"].availability()
    assert not ok and "damaged" in why
    # A folder the searches do not cover gets the --dir form of the fix.
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(ModelsDamagedError, match=r"avr models install pose --dir '.*models'"):
        blazepose_model_paths(folder)


def test_verification_reads_each_file_once_per_process(
    fake_table: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "models"
    det, _ = _write(folder, fake_table)
    reads: list[str] = []
    real = models._file_sha256

    def counting(path: Path) -> str:
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(models, "_file_sha256", counting)
    for _ in range(3):
        blazepose_model_paths(folder)
        assert pose_models_intact(folder)
    assert sorted(reads) == sorted(fake_table)
    os.utime(det, ns=(det.stat().st_atime_ns, det.stat().st_mtime_ns + 1_000_000))
    blazepose_model_paths(folder)  # a touched file is checked again
    assert len(reads) == 3 and reads[-1] == det.name


def test_status_says_what_is_missing_and_how_to_get_it(
    fake_table: dict[str, bytes], tmp_path: Path, monkeypatch, capsys
) -> None:
    folder = tmp_path / "models"
    monkeypatch.setenv("AVR_MODELS_DIR", str(folder))
    ok, why = pose_models_status()
    assert not ok and "\n" not in why
    assert why.startswith(f"pose models not installed (looked in {folder})")
    assert "body pose features are off" in why
    assert "run `avr models install pose` (downloads 36 MB once from PyPI)" in why
    with pytest.raises(ModelsMissingError) as info:
        blazepose_model_paths()
    assert str(info.value) == why and not isinstance(info.value, ModelsDamagedError)
    first = next(iter(fake_table))
    _write(folder, {first: fake_table[first]})
    ok, why = pose_models_status()
    second = models.BLAZEPOSE_FILES[1].name
    assert not ok and why.startswith(f"pose models incomplete ({second} missing in {folder})")
    _write(folder, fake_table)
    assert pose_models_status() == (True, f"pose models ready ({folder})")
    # `avr models list` shows the same line, and the JSON carries it.
    assert cli_main(["models", "list"]) == 0
    assert f"pose models ready ({folder})" in capsys.readouterr().out
    monkeypatch.setenv("AVR_MODELS_DIR", str(tmp_path / "none"))
    assert cli_main(["models", "list", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)["status"]
    assert status["available"] is False and "avr models install pose" in status["message"]


def test_bundled_models_are_found_after_the_install_folder(
    fake_table: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    assert models.bundled_model_dir() is None  # not frozen: no bundle folder
    bundle = tmp_path / "bundle" / "_internal"
    shipped = _write(bundle / models.BUNDLED_MODELS_SUBDIR, fake_table)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    user = tmp_path / "user"
    monkeypatch.setenv("AVR_MODELS_DIR", str(user))
    assert models.model_search_path() == [user, bundle / models.BUNDLED_MODELS_SUBDIR]
    assert blazepose_model_paths() == tuple(shipped)
    assert pose_models_status()[0]
    # The install folder comes first, so `avr models install pose` overrides the bundle.
    installed = _write(user, fake_table)
    assert blazepose_model_paths() == tuple(installed)
    # Without $AVR_MODELS_DIR the user folder ($XDG_DATA_HOME) takes its place.
    monkeypatch.delenv("AVR_MODELS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert models.model_search_path()[0] == tmp_path / "xdg" / "avr-studio" / "models"
    assert blazepose_model_paths() == tuple(shipped)
    # The bundle has no pip: installing says how to do it offline instead of running it.
    with pytest.raises(ModelInstallError, match="--wheel"):
        models.download_wheel(tmp_path)
