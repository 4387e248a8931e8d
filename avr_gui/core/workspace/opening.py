"""Opening a library for the workspace: which encoder it gets, and what to tell the user.

These functions run as worker jobs (they touch the disk and may load models); what they
return is plain data the workspace model takes over on the GUI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avr_gui.core.errors import AvrError
from avr_gui.core.workspace.labels import pose_notice

#: The ``features.encoder`` value that leaves the choice to this machine.
AUTO = "auto"


@dataclass(frozen=True)
class Notice:
    """Something the user should know once the library is open (shown, not modal).

    Attributes
    ----------
    key : str
        ``"encoder"``, ``"library"``, ``"pose"`` or ``"device"``: a later notice with
        the same key replaces the earlier one.
    text : str
    level : str
        ``"info"``, ``"warning"`` or ``"error"``.
    """

    key: str
    text: str
    level: str = "info"


@dataclass(frozen=True)
class LibrarySnapshot:
    """What the library panel shows: folders, videos, counts and the encoder.

    Attributes
    ----------
    folders : list of str
    entries : list of VideoEntry
    status : LibraryStatus
    encoder : str or None
    learned : LearnedInfo or None
        The library's learned pose model in use (``avr learn``, Teach from folders…),
        for :func:`~avr_gui.core.workspace.features.features_summary`.
    """

    folders: list[str]
    entries: list[Any]
    status: Any
    encoder: str | None
    learned: Any = None


@dataclass(frozen=True)
class OpenedLibrary:
    """A library opened by :func:`open_library`.

    Attributes
    ----------
    library : Library
    snapshot : LibrarySnapshot
    notices : list of Notice
    device : str or None
        Where features are computed; None when the configured device is unusable (a
        ``device`` notice says why).
    """

    library: Any
    snapshot: LibrarySnapshot
    notices: list[Notice] = field(default_factory=list)
    device: str | None = None


def snapshot(lib: Any) -> LibrarySnapshot:
    """Folders, entries, status and encoder name of ``lib`` (on the library's thread).

    Parameters
    ----------
    lib : Library

    Returns
    -------
    LibrarySnapshot
    """
    learned = lib.learned_model() if hasattr(lib, "learned_model") else None
    return LibrarySnapshot(
        [str(f) for f in lib.folders], lib.entries(), lib.status(), lib.encoder_name, learned
    )


def pose_tracks(lib: Any, paths: list[str]) -> dict[str, Any]:
    """Stored landmark tracks of ``paths`` (paths without one are left out).

    Parameters
    ----------
    lib : Library
    paths : list of str

    Returns
    -------
    dict of str to PoseTrack
    """
    if not hasattr(lib, "pose_track"):  # a library core from before pose tracks
        return {}
    out: dict[str, Any] = {}
    for path in paths:
        try:
            track = lib.pose_track(path)
        except AvrError:
            continue
        if track is not None:
            out[path] = track
    return out


def open_library(
    index_dir: str,
    backend: str | None = None,
    weights: str | None = None,
    *,
    new_encoder: str = AUTO,
    device: str = AUTO,
    reindex: bool = False,
) -> OpenedLibrary:
    """Open (or create) a library; an encoder that cannot be used never stops it.

    The encoder rules:

    - ``backend`` (asked for on the command line) is loaded; if it cannot be, the
      library opens with its own encoder (or this machine's default for a new one) and
      an ``encoder`` notice says why and which.
    - An existing library holding other features keeps them, with a notice (a library
      with nothing indexed yet takes the encoder asked for: nothing to lose).
    - Without ``backend``, a new library gets ``new_encoder`` (the ``features.encoder``
      setting); ``auto`` means this machine's default, appearance features when body
      pose cannot run here (a ``pose`` notice then says why and what to do). An
      existing library keeps its encoder without a notice: it was not asked for.
    - A library on a read-only mount opens read-only, with a ``library`` notice.

    Parameters
    ----------
    index_dir : str
    backend : str, optional
        Encoder asked for explicitly.
    weights : str, optional
        Model or weights file for ``backend``.
    new_encoder : str
        Encoder of a new library when ``backend`` is not given.
    device : str
        The ``device`` setting (``auto``, ``cpu``, ``cuda:N``).
    reindex : bool
        Switch the library to ``backend`` even though it holds other features: every
        video goes back to pending, for the next index run (the user asked for it).
        Without a usable ``backend`` nothing is switched (an ``encoder`` notice says
        why).

    Returns
    -------
    OpenedLibrary

    Raises
    ------
    LibraryError
        The index folder cannot be used at all (not a folder, not writable, corrupt).
    """
    from avr_gui.core.device import resolve_device
    from avr_gui.core.errors import DeviceError
    from avr_gui.core.features import default_backend, get_encoder
    from avr_gui.core.features.pose.models import pose_models_status
    from avr_gui.core.library import EncoderMismatchError, Library

    notes: list[Notice] = []
    readonly = (Path(index_dir) / "catalog.sqlite").is_file() and not os.access(index_dir, os.W_OK)
    if readonly:
        # A library on a read-only mount (a shared drive, an archive disc) can still be
        # searched and played; indexing it is refused with a clear message.
        lib = Library.open(index_dir, readonly=True)
        notes.append(
            Notice(
                "library",
                "This library is read-only here: you can search, play and export, but not "
                "index or add folders.",
                "info",
            )
        )
        return OpenedLibrary(lib, snapshot(lib), notes, None)

    explicit = bool(backend)
    wanted = backend if explicit else (new_encoder if new_encoder != AUTO else None)
    if wanted and not explicit:
        # The setting is for new libraries: one with features keeps its encoder, and
        # its model is not even loaded.
        with Library.open(index_dir) as probe:
            if probe.status().indexed:
                wanted = None
    encoder = None
    failed: str | None = None
    if wanted:
        try:
            encoder = get_encoder(
                wanted,
                weights=weights if explicit else None,
                on_fallback=lambda message: notes.append(
                    Notice("encoder", f"{message}.", "warning")
                ),
            )
        except AvrError as exc:
            failed = f"The {wanted} encoder could not be loaded: {exc}"
    try:
        lib = Library.open(index_dir, encoder=encoder, reindex=reindex and encoder is not None)
    except EncoderMismatchError:
        lib = Library.open(index_dir)
        assert encoder is not None  # only a given encoder can mismatch
        if lib.status().indexed == 0:
            # Nothing indexed yet, so nothing to lose: take the encoder asked for.
            lib.close()
            lib = Library.open(index_dir, encoder=encoder, reindex=True)
        elif explicit:
            notes.append(
                Notice(
                    "encoder",
                    f"This library holds {lib.encoder_name} features and keeps that encoder; "
                    f"{encoder.name} is not used. To switch, re-index it: "
                    f"avr index --index {index_dir} --reindex --encoder {backend}.",
                    "warning",
                )
            )
    fallback: list[str] = []
    # A new library left to this machine gets `auto`, or appearance features when body
    # pose cannot run here (the pose notice says why and what to do).
    new_backend = None
    if lib.encoder_name is None:
        new_backend = encoder.name if encoder is not None else default_backend(fallback.append)
    if failed is not None:
        used = lib.encoder_name or new_backend
        notes.append(Notice("encoder", f"{failed}. Using {used} instead.", "warning"))
    pose = pose_notice(
        lib.encoder_name, pose_models_status(), fallback[0] if fallback else None, new_backend
    )
    if pose is not None:
        notes.append(Notice("pose", *pose))
    try:
        resolved: str | None = resolve_device(None if device == AUTO else device)
    except DeviceError as exc:
        resolved = None
        notes.append(Notice("device", str(exc), "error"))
    return OpenedLibrary(lib, snapshot(lib), notes, resolved)
