"""Where pose models live, and installing BlazePose from the MediaPipe wheel.

The BlazePose detector and landmark model ship inside the PyPI wheel
``mediapipe==0.10.21`` (Apache-2.0). We never import or install the MediaPipe runtime
(it pins numpy < 2): ``pip download --no-deps`` fetches the wheel into a temporary
folder, and only the two ``.tflite`` files are extracted, checked against known
digests and written atomically into the model folder.

Model folder: ``$AVR_MODELS_DIR`` when set, else ``~/.local/share/avr-studio/models``
(``$XDG_DATA_HOME`` honoured).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from avr_gui.core.atomic import write_bytes
from avr_gui.core.errors import MissingFileError
from avr_gui.core.features.encoders import WeightsError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

MODELS_ENV = "AVR_MODELS_DIR"
MEDIAPIPE_REQUIREMENT = "mediapipe==0.10.21"


@dataclass(frozen=True)
class ModelFile:
    """One model file: its name in the model folder, where it sits in the wheel, digest."""

    name: str
    member: str
    sha256: str


#: The two BlazePose files; the digests are those of the files in mediapipe 0.10.21, so a
#: damaged download or a changed upstream file is caught before it is used.
BLAZEPOSE_FILES: tuple[ModelFile, ...] = (
    ModelFile(
        "pose_detection.tflite",
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    ModelFile(
        "pose_landmark_full.tflite",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
)

INSTALL_HINT = "run `avr models install pose`"


class ModelsMissingError(WeightsError):
    """The pose models are not installed in the model folder."""


class ModelInstallError(WeightsError):
    """Fetching or extracting the pose models failed; the message says why."""


def default_model_dir() -> Path:
    """The model folder: ``$AVR_MODELS_DIR``, else the user's data folder.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "avr-studio" / "models"


def _dir(model_dir: str | os.PathLike[str] | None) -> Path:
    return Path(model_dir).expanduser() if model_dir is not None else default_model_dir()


def blazepose_model_paths(model_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Paths of the installed BlazePose detector and landmark model.

    Parameters
    ----------
    model_dir : path-like, optional
        Default: :func:`default_model_dir`.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        ``pose_detection.tflite``, ``pose_landmark_full.tflite``.

    Raises
    ------
    ModelsMissingError
        Either file is missing; the message tells how to install them.
    """
    folder = _dir(model_dir)
    paths = tuple(folder / f.name for f in BLAZEPOSE_FILES)
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ModelsMissingError(
            f"the BlazePose models are not installed ({', '.join(missing)} missing in "
            f"{folder}): {INSTALL_HINT}"
        )
    return paths[0], paths[1]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _writable_folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallError(f"{folder}: cannot create the model folder ({exc})") from exc
    if not os.access(folder, os.W_OK):
        raise ModelInstallError(f"{folder}: the model folder is not writable")
    return folder


def extract_pose_models(
    wheel: str | os.PathLike[str], model_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Copy the two BlazePose files out of a MediaPipe wheel into the model folder.

    Parameters
    ----------
    wheel : path-like
        A ``mediapipe-0.10.21-*.whl`` (a zip file).
    model_dir : path-like, optional

    Returns
    -------
    list of pathlib.Path
        The installed files.

    Raises
    ------
    ModelInstallError
        The wheel is not a zip, lacks a file, a digest differs, or the folder cannot be
        written.
    """
    folder = _writable_folder(_dir(model_dir))
    blobs: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            for f in BLAZEPOSE_FILES:
                if f.member not in names:
                    raise ModelInstallError(f"{wheel}: has no {f.member} (not mediapipe 0.10.21?)")
                blobs[f.name] = zf.read(f.member)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelInstallError(f"{wheel}: not a readable wheel ({exc})") from exc
    for f in BLAZEPOSE_FILES:
        if _sha256(blobs[f.name]) != f.sha256:
            raise ModelInstallError(
                f"{wheel}: {f.member} differs from the expected file (digest mismatch)"
            )
    out = []
    for f in BLAZEPOSE_FILES:
        target = folder / f.name
        try:
            write_bytes(target, blobs[f.name])
        except OSError as exc:
            raise ModelInstallError(f"{target}: cannot write ({exc})") from exc
        out.append(target)
    return out


def download_wheel(dest: str | os.PathLike[str], *, timeout: float = 600.0) -> Path:
    """Fetch the MediaPipe wheel (no dependencies, binary only) into ``dest``.

    Parameters
    ----------
    dest : path-like
        An existing folder.
    timeout : float
        Seconds before giving up.

    Returns
    -------
    pathlib.Path
        The downloaded wheel.

    Raises
    ------
    ModelInstallError
        pip failed (offline, no wheel for this platform, ...); the message carries
        pip's last lines.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        MEDIAPIPE_REQUIREMENT,
        "-d",
        str(dest),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelInstallError(
            f"could not run pip to fetch {MEDIAPIPE_REQUIREMENT}: {exc}"
        ) from exc
    wheels = sorted(Path(dest).glob("mediapipe-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise ModelInstallError(
            f"pip could not download {MEDIAPIPE_REQUIREMENT} (exit {proc.returncode}): {tail}"
        )
    return wheels[0]


def install_pose_models(
    model_dir: str | os.PathLike[str] | None = None,
    *,
    wheel: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[Path]:
    """Install the BlazePose models into the model folder.

    Parameters
    ----------
    model_dir : path-like, optional
        Default: :func:`default_model_dir`.
    wheel : path-like, optional
        A MediaPipe 0.10.21 wheel already on disk (offline install); default: download.
    force : bool
        Reinstall even when both files are present and intact.
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    list of pathlib.Path
        The two model files.
    """
    folder = _dir(model_dir)
    if not force and pose_models_intact(folder):
        progress(1, 1, "pose models already installed")
        return [folder / f.name for f in BLAZEPOSE_FILES]
    # Fail on an unusable folder before a 35 MB download, not after.
    _writable_folder(folder)
    if wheel is not None:
        if not Path(wheel).is_file():
            raise MissingFileError(f"{wheel}: no such wheel file")
        progress(0, 1, "extracting the pose models")
        out = extract_pose_models(wheel, folder)
    else:
        with tempfile.TemporaryDirectory(prefix="avr-mediapipe-") as tmp:
            progress(0, 2, f"downloading {MEDIAPIPE_REQUIREMENT}")
            got = download_wheel(tmp)
            check(cancel)
            progress(1, 2, "extracting the pose models")
            out = extract_pose_models(got, folder)
    progress(1, 1, "pose models installed")
    return out


def pose_models_intact(model_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether both BlazePose files are present with the expected digests."""
    folder = _dir(model_dir)
    for f in BLAZEPOSE_FILES:
        p = folder / f.name
        try:
            if _sha256(p.read_bytes()) != f.sha256:
                return False
        except OSError:
            return False
    return True


def list_models(model_dir: str | os.PathLike[str] | None = None) -> list[dict[str, object]]:
    """What the model folder holds, for ``avr models list``.

    Returns
    -------
    list of dict
        Per known file: ``name``, ``path``, ``installed`` (bool), ``intact`` (digest ok),
        ``bytes``.
    """
    folder = _dir(model_dir)
    rows: list[dict[str, object]] = []
    for f in BLAZEPOSE_FILES:
        p = folder / f.name
        size = p.stat().st_size if p.is_file() else 0
        intact = False
        if size:
            try:
                intact = _sha256(p.read_bytes()) == f.sha256
            except OSError:
                intact = False
        rows.append(
            {
                "name": f.name,
                "group": "pose",
                "path": str(p),
                "installed": bool(size),
                "intact": intact,
                "bytes": size,
            }
        )
    return rows
