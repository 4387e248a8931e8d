"""Where pose models live, and installing BlazePose from the MediaPipe wheel.

The BlazePose detector and landmark model ship inside the PyPI wheel
``mediapipe==0.10.21`` (Apache-2.0); :func:`install_pose_models` fetches it and
extracts the two ``.tflite`` files, checked against known digests, into the model
folder (the wheel itself is handled by :mod:`avr_gui.core.features.pose.install`).

Where the models are looked for (first folder holding both files wins):

1. the ``models.dir`` setting (``$AVR_MODELS_DIR`` or the config file), else the user
   folder ``~/.local/share/avr-studio/models`` (``$XDG_DATA_HOME`` honoured).
   This is also where ``avr models install pose`` writes, so the fix every message
   suggests always takes effect.
2. The folder shipped inside the app bundle (``<bundle>/_internal/avr-models``), so the
   bundled app has body pose with no download.

Files are checked against their SHA-256 when installed and again when located for use
(:func:`blazepose_model_paths`); the check is cached per path, size and modification time,
so it costs one read per process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

from avr_gui.core.config import KEYS, ConfigError, load_config, report_unreadable
from avr_gui.core.errors import MissingFileError
from avr_gui.core.features.base import WeightsError

# The wheel part; MEDIAPIPE_REQUIREMENT, ModelFile, ModelInstallError and download_wheel
# are re-exported, so callers (and tests patching download_wheel here) keep their path.
from avr_gui.core.features.pose.install import (
    MEDIAPIPE_REQUIREMENT,
    ModelFile,
    download_wheel,
    extract_files,
    writable_folder,
)
from avr_gui.core.features.pose.install import ModelInstallError as ModelInstallError
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress

log = logging.getLogger(__name__)

MODELS_ENV = KEYS["models.dir"].env  # "AVR_MODELS_DIR"

#: The two BlazePose files; the digests are those of the files in mediapipe 0.10.21, so a
#: damaged download or a changed upstream file is caught before it is used. The wheel
#: carries only the ``full`` landmark model: MediaPipe itself fetches ``lite`` and
#: ``heavy`` from its GitHub repository at run time, a second source we do not use.
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
#: What the install costs, for messages: the Linux wheel is 35.6 MB; 9.4 MB are kept.
DOWNLOAD_NOTE = "downloads 36 MB once from PyPI"
#: The folder, relative to the bundle's data root (``sys._MEIPASS``), holding the models.
BUNDLED_MODELS_SUBDIR = "avr-models"
_CHUNK = 1 << 20


class ModelsMissingError(WeightsError):
    """The pose models are not installed in the model folder."""


class ModelsDamagedError(ModelsMissingError):
    """A pose model file is present but its SHA-256 differs from the pinned one."""


def user_model_dir() -> Path:
    """The per-user model folder (``$XDG_DATA_HOME/avr-studio/models``).

    Returns
    -------
    pathlib.Path
        ``~/.local/share/avr-studio/models`` unless ``$XDG_DATA_HOME`` is set.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "avr-studio" / "models"


def default_model_dir() -> Path:
    """The model folder installs write to: the ``models.dir`` setting, else the user's folder.

    ``models.dir`` comes from ``$AVR_MODELS_DIR`` or the user's config file (see
    :mod:`avr_gui.core.config`); empty means :func:`user_model_dir`.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    A configuration that cannot be read (reported by the front ends at start) falls back
    to the user's folder, with a warning in the log.
    """
    try:
        folder = load_config().get_str("models.dir")
    except ConfigError as exc:
        report_unreadable(log, exc, "looking for models in the user's folder")
        folder = ""
    if folder:
        return Path(folder).expanduser()
    return user_model_dir()


def bundled_model_dir() -> Path | None:
    """The model folder shipped inside a frozen (PyInstaller) app, if any.

    Returns
    -------
    pathlib.Path or None
        ``sys._MEIPASS / "avr-models"`` when running from the bundle and that folder
        exists; else None.
    """
    root = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or not root:
        return None
    folder = Path(root) / BUNDLED_MODELS_SUBDIR
    return folder if folder.is_dir() else None


def model_search_path() -> list[Path]:
    """The folders searched for the pose models, in order.

    Returns
    -------
    list of pathlib.Path
        :func:`default_model_dir` (``$AVR_MODELS_DIR`` or the user folder), then
        :func:`bundled_model_dir` when running from the bundle.
    """
    out = [default_model_dir()]
    bundled = bundled_model_dir()
    if bundled is not None and bundled not in out:
        out.append(bundled)
    return out


def _dir(model_dir: str | os.PathLike[str] | None) -> Path:
    return Path(model_dir).expanduser() if model_dir is not None else default_model_dir()


def _has_all(folder: Path) -> bool:
    return all((folder / f.name).is_file() for f in BLAZEPOSE_FILES)


def find_pose_model_dir(model_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder whose pose models would be used, without checking their digests.

    Parameters
    ----------
    model_dir : path-like, optional
        Look only here; default: the first folder of :func:`model_search_path` that holds
        both files.

    Returns
    -------
    pathlib.Path or None
        None when no searched folder holds both files.
    """
    folders = [_dir(model_dir)] if model_dir is not None else model_search_path()
    return next((f for f in folders if _has_all(f)), None)


def _install_hint(folder: Path | None) -> str:
    """The install command that repairs ``folder`` (``--dir`` when it is not searched)."""
    if folder is None or folder in model_search_path():
        return "`avr models install pose`"
    return f"`avr models install pose --dir '{folder}'`"


def _missing_message(folders: list[Path]) -> str:
    hint = _install_hint(folders[0] if len(folders) == 1 else None)
    partial = [f for f in folders if any((f / m.name).is_file() for m in BLAZEPOSE_FILES)]
    if partial:
        folder = partial[0]
        gone = ", ".join(m.name for m in BLAZEPOSE_FILES if not (folder / m.name).is_file())
        what = f"pose models incomplete ({gone} missing in {folder})"
    else:
        what = f"pose models not installed (looked in {', '.join(map(str, folders))})"
    return f"{what}: body pose features are off; run {hint} ({DOWNLOAD_NOTE})"


# (resolved path, size, mtime_ns, expected digest) -> digest matched. Files are only
# replaced atomically (a new inode, a new mtime), so a key that is unchanged means the
# bytes are unchanged, and a file is read once per process.
_VERIFIED: dict[tuple[str, int, int, str], bool] = {}
_VERIFIED_LOCK = threading.Lock()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_intact(path: str | os.PathLike[str], sha256: str) -> bool:
    """Whether ``path`` is a file whose SHA-256 is ``sha256`` (cached per process).

    Parameters
    ----------
    path : path-like
    sha256 : str
        Expected digest, lowercase hex.

    Returns
    -------
    bool
        False also when the file is missing or unreadable.

    Notes
    -----
    The answer is cached under the file's resolved path, size and modification time (ns),
    so checking the same unchanged file again costs one ``stat``.
    """
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, sha256)
    except OSError:
        return False
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
    if known is not None:
        return known
    try:
        ok = _file_sha256(p) == sha256
    except OSError:
        return False  # unreadable now; not cached, it may be readable later
    with _VERIFIED_LOCK:
        _VERIFIED[key] = ok
    return ok


def clear_verification_cache() -> None:
    """Forget every cached digest check (tests; after editing files in place)."""
    with _VERIFIED_LOCK:
        _VERIFIED.clear()


def blazepose_model_paths(model_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Paths of the BlazePose detector and landmark model, checked against their digests.

    Parameters
    ----------
    model_dir : path-like, optional
        Look only in this folder. Default: the first folder of :func:`model_search_path`
        holding both files (``$AVR_MODELS_DIR`` or the user folder, then the bundle's).

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        ``pose_detection.tflite``, ``pose_landmark_full.tflite``.

    Raises
    ------
    ModelsMissingError
        Either file is missing; the one-line message tells how to install them.
    ModelsDamagedError
        A file's SHA-256 differs from the pinned one (a subclass of
        :class:`ModelsMissingError`); the message names the file and says to reinstall.

    Notes
    -----
    The digest check is cached per path, size and modification time (:func:`file_intact`),
    so only the first call in a process reads the files.
    """
    folder = find_pose_model_dir(model_dir)
    if folder is None:
        searched = [_dir(model_dir)] if model_dir is not None else model_search_path()
        raise ModelsMissingError(_missing_message(searched))
    paths = tuple(folder / f.name for f in BLAZEPOSE_FILES)
    for p, f in zip(paths, BLAZEPOSE_FILES, strict=True):
        if not file_intact(p, f.sha256):
            raise ModelsDamagedError(
                f"{p}: the pose model file is damaged (SHA-256 mismatch): body pose "
                f"features are off; run {_install_hint(folder)} again"
            )
    return paths[0], paths[1]


def pose_models_status(model_dir: str | os.PathLike[str] | None = None) -> tuple[bool, str]:
    """Whether body pose can run here, and one line saying so (or what to do).

    Parameters
    ----------
    model_dir : path-like, optional
        Look only here; default: :func:`model_search_path`.

    Returns
    -------
    available : bool
        Both BlazePose files found and intact.
    message : str
        One line for a CLI or a status bar, e.g. ``"pose models ready (DIR)"`` or
        ``"pose models not installed (...): body pose features are off; run `avr models
        install pose` (downloads 36 MB once from PyPI)"``.
    """
    try:
        det_path, _ = blazepose_model_paths(model_dir)
    except ModelsMissingError as exc:
        return False, str(exc)
    return True, f"pose models ready ({det_path.parent})"


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
    folder = writable_folder(_dir(model_dir))
    return extract_files(wheel, folder, BLAZEPOSE_FILES)


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
    writable_folder(folder)
    if wheel is not None:
        if not Path(wheel).is_file():
            raise MissingFileError(f"{wheel}: no such wheel file")
        progress(0, 1, "extracting the pose models")
        out = extract_pose_models(wheel, folder)
    else:
        with tempfile.TemporaryDirectory(prefix="avr-mediapipe-") as tmp:
            progress(0, 2, f"downloading {MEDIAPIPE_REQUIREMENT}")

            def on_bytes(done: int, total: int) -> None:
                if total > 0:
                    mb = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
                    progress(done, total, f"downloading {MEDIAPIPE_REQUIREMENT}: {mb}")

            got = download_wheel(tmp, cancel=cancel, on_bytes=on_bytes)
            check(cancel)
            progress(1, 2, "extracting the pose models")
            out = extract_pose_models(got, folder)
    progress(1, 1, "pose models installed")
    return out


def pose_models_intact(model_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether both BlazePose files are present in one folder with the expected digests.

    Parameters
    ----------
    model_dir : path-like, optional
        Default: :func:`default_model_dir` (only that folder, not the bundle's).

    Returns
    -------
    bool
    """
    folder = _dir(model_dir)
    return all(file_intact(folder / f.name, f.sha256) for f in BLAZEPOSE_FILES)


def list_models(model_dir: str | os.PathLike[str] | None = None) -> list[dict[str, object]]:
    """What the model folder holds, for ``avr models list``.

    Parameters
    ----------
    model_dir : path-like, optional
        Default: :func:`default_model_dir`.

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
        intact = bool(size) and file_intact(p, f.sha256)
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
