"""Where ``avr export`` gets each clip's features and landmarks: a library, or encoding.

With ``--index`` the library's stored features of these exact files are reused (looked
up by content, read only); whatever the library lacks is encoded, and a line on stderr
says for each clip which it was. Also what ``avr export`` and ``avr export --grid``
share: the resolved settings, the ``--index`` library, the pairwise alignment and the
summary of the written file.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avr_gui.cli.options import (
    device_of,
    encoder_config,
    encoder_for,
    encoder_setting,
    progress_for,
    size_of,
)
from avr_gui.cli.output import warn
from avr_gui.cli.progress import ProgressPrinter
from avr_gui.core.errors import InputError

if TYPE_CHECKING:
    from avr_gui.core.align import Alignment
    from avr_gui.core.config import Config
    from avr_gui.core.export import FrameMap, TimeMap
    from avr_gui.core.features.encoders import Encoder
    from avr_gui.core.features.pose import PoseTrack
    from avr_gui.core.features.sequence import FeatureSequence
    from avr_gui.core.library import Library


def _note(message: str) -> None:
    """One line on stderr saying what the command does (where features come from)."""
    print(f"avr: {message}", file=sys.stderr)


#: What every library index folder holds (see :mod:`avr_gui.core.library.library`).
_CATALOG = "catalog.sqlite"
_STORE = "features"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Pose backends whose own encoder finds the landmarks for ``--skeleton``.
POSE_ONLY_BACKENDS = ("pose-blazepose", "pose-movenet")


def ignore(message: str) -> None:
    """Drop a message that another line says better."""


def export_settings(args: argparse.Namespace) -> tuple[Config, ProgressPrinter]:
    """The settings in effect and the progress printer of an export.

    The clip helpers read the resolved settings from ``args`` (the options they stand
    for), so this sets ``args.config``, ``args.fps`` and ``args.size`` too.

    Returns
    -------
    (Config, ProgressPrinter)
    """
    config = encoder_config(args)
    args.config = config
    args.fps = config.get_float("features.fps")
    args.size = size_of(config)
    return config, progress_for(args)


def open_library(
    stack: contextlib.ExitStack, index: Path | None, args: argparse.Namespace, config: Config
) -> Library | None:
    """The ``--index`` library open read only (None without one); sets ``args.backend``.

    Read only: opening an existing catalog writes nothing (SQLite keeps its -wal/-shm
    files only while it is open), and features are only read. Without ``--encoder``
    the backend is the library's encoder, else the configured default.

    Parameters
    ----------
    stack : contextlib.ExitStack
        Closes the library when the export is done.
    index : Path or None
        A checked index folder (see :func:`check_index`).
    args : argparse.Namespace
        ``backend`` is read and, when None, set.
    config : Config
        The settings in effect.
    """
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND, BACKENDS

    lib = None
    if index is not None:
        from avr_gui.core.library import Library

        lib = stack.enter_context(Library.open(index))
    if args.backend is None:
        own = lib.encoder_name if lib is not None else None
        args.backend = own if own in BACKENDS else encoder_setting(config, APPEARANCE_BACKEND)
    return lib


def align_pair(
    query: str | Path, match: str | Path, q: FeatureSequence, m: FeatureSequence, config: Config
) -> tuple[FrameMap, TimeMap, Alignment]:
    """Align two clips' features for an export (see ``align_features_for_export``).

    A damaged clip's warning is dropped here: the export names it once, with what it
    does about it.

    Returns
    -------
    (FrameMap, TimeMap, Alignment)
        One row per query frame, the query -> match time map, and the alignment.
    """
    from avr_gui.core.align import AlignmentOptions
    from avr_gui.core.export.pairing import align_features_for_export

    return align_features_for_export(
        query, match, q, m, options=AlignmentOptions(device=device_of(config)), on_warning=ignore
    )


def result_summary(out: Path, mode: str, result: Any) -> dict[str, Any]:
    """The keys every export's ``--json`` summary starts with.

    Parameters
    ----------
    out : Path
        The written file.
    mode : str
        ``"grid"`` or the pair's mode.
    result : ExportResult or GridResult
        What the export returned (``frame_count``, ``fps``, ``size``, ``codec``,
        ``audio``, ``seconds``).
    """
    return {
        "output": str(out),
        "mode": mode,
        "frames": result.frame_count,
        "fps": result.fps,
        "width": result.size[0],
        "height": result.size[1],
        "codec": result.codec,
        "audio": result.audio,
        "seconds": round(result.seconds, 3),
    }


@dataclass
class Clip:
    """One side of the export and what has been found for it so far.

    Attributes
    ----------
    role : {"query", "match"}
    path : str
    features : FeatureSequence or None
    pose : PoseTrack or None
        Landmarks for ``--skeleton``.
    source : {"library", "encoded"} or None
        Where ``features`` came from.
    """

    role: str
    path: str
    features: FeatureSequence | None = None
    pose: PoseTrack | None = None
    source: str | None = None

    @property
    def name(self) -> str:
        """The file's name, for messages."""
        return Path(self.path).name

    def drop(self) -> None:
        """Forget the features and landmarks found."""
        self.features = self.pose = self.source = None


def check_index(index: str) -> Path:
    """The ``--index`` folder if it holds a library index; reads two names, writes nothing.

    Parameters
    ----------
    index : str
        The ``--index`` argument.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        No such folder, or a folder without a library catalog and feature store.
    """
    root = Path(index).expanduser()
    hint = f"make one with `avr index FOLDER --index {root}`"
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise InputError(f"{root}: --index {what}; it must name a library index folder ({hint})")
    try:
        with open(root / _CATALOG, "rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError:
        magic = b""
    if magic != _SQLITE_MAGIC or not (root / _STORE).is_dir():
        raise InputError(
            f"{root}: not a library index (it lacks the {_CATALOG} catalog and {_STORE}/ "
            f"store); {hint}"
        )
    return root


def _library_features(lib: Library, clips: list[Clip], args: argparse.Namespace) -> bool:
    """Fill in the features (and landmarks) the library holds for these exact files.

    A file's features are looked up by content, the way the indexer stores them: the
    file's fingerprint (size + hash of its content, as the catalog computes it) under the
    library's encoder version. A file changed since it was indexed has another
    fingerprint and is not found; a copy of an indexed file is. Nothing is written.

    Parameters
    ----------
    lib : Library
        The open ``--index`` library.
    clips : list of Clip
    args : argparse.Namespace
        ``backend`` (resolved) and ``fps``.

    Returns
    -------
    bool
        False when the library's features cannot serve this export at all (another
        encoder or sampling rate, or none yet); a note says why.
    """
    from avr_gui.core.library import DEFAULT_FPS, LibraryError
    from avr_gui.core.library.indexer import feature_key
    from avr_gui.core.library.scan import fingerprint
    from avr_gui.core.library.store import FeatureStore

    name, version = lib.encoder_name, lib.encoder_version
    if name is None or version is None:
        why = "the library holds no features yet"
    elif name != args.backend:
        why = f"the library holds {name} features and --encoder asks for {args.backend}"
    elif args.fps != DEFAULT_FPS:
        why = f"the library samples at {DEFAULT_FPS:g} fps and --fps asks for {args.fps:g}"
    else:
        why = ""
    if why or name is None or version is None:  # (the None tests narrow the types)
        _note(f"features: encoding both clips: {why}")
        return False
    store = FeatureStore(lib.root / _STORE)  # the folder exists: check_index saw it
    for clip in clips:
        try:
            key = feature_key(fingerprint(clip.path), version)
        except OSError:
            continue  # unreadable: encoding it fails with the reader's message
        if not store.has(key):
            continue
        try:
            clip.features = store.read(key, clip.path, name, version)
            if lib.is_pose and store.has_track(key):
                clip.pose = store.read_track(key, clip.path)
        except LibraryError as exc:
            warn(f"{exc}; encoding {clip.name} instead")
            clip.drop()
            continue
        clip.source = "library"
    return True


def _encode(
    clip: Clip, args: argparse.Namespace, encoder: Encoder, progress: ProgressPrinter, why: str
) -> None:
    """Encode one clip's features; with ``--skeleton`` and a pose encoder, landmarks too."""
    from avr_gui.core.features.pose import FusedEncoder, PoseEncoder, encode_pose_video
    from avr_gui.core.features.sequence import encode_video

    _note(
        f"{clip.role} features: encoding with {encoder.name} at {args.fps:g} fps{why} ({clip.name})"
    )
    if args.skeleton and isinstance(encoder, (PoseEncoder, FusedEncoder)):
        # One decoding pass gives the features and the clip's landmarks.
        clip.features, clip.pose = encode_pose_video(
            clip.path, encoder, fps=args.fps, on_warning=warn, progress=progress
        )
    else:
        clip.features = encode_video(
            clip.path, encoder, fps=args.fps, on_warning=warn, progress=progress
        )
    progress.finish()  # end the progress line
    clip.source = "encoded"


def clip_features(
    clips: list[Clip], lib: Library | None, args: argparse.Namespace, progress: ProgressPrinter
) -> Encoder | None:
    """Both clips' features: the library's where it has them for these files, else encoded.

    Says on stderr, for each clip, which it was.

    Parameters
    ----------
    clips : list of Clip
        Filled in place (``features``, ``source``, and ``pose`` where found).
    lib : Library or None
        The ``--index`` library, open read only.
    args : argparse.Namespace
        The resolved options: ``backend``, ``weights``, ``size``, ``fps``,
        ``skeleton`` and ``config`` (the settings in effect).
    progress : ProgressPrinter

    Returns
    -------
    Encoder or None
        The encoder built; None when every feature came from the library.
    """
    usable = lib is not None and _library_features(lib, clips, args)
    found = [c for c in clips if c.source == "library"]
    encoder = None
    if len(found) < len(clips) or args.weights or args.size:
        encoder = encoder_for(args, args.config, [c.path for c in clips])
        assert encoder is not None  # videos, not feature files
        if found and lib is not None and encoder.version != lib.encoder_version:
            # Other weights or input size than the library's: its features would not
            # compare with those encoded now.
            _note(
                f"features: encoding both clips: the library's {lib.encoder_name} features "
                f"({lib.encoder_version}) are not this encoder's ({encoder.version})"
            )
            for clip in found:
                clip.drop()
            usable = False
    why = ", not in the library or changed since it was indexed" if usable else ""
    for clip in clips:
        if clip.source == "library":
            _note(f"{clip.role} features: reused from the library ({clip.name})")
        else:
            assert encoder is not None
            _encode(clip, args, encoder, progress, why)
    return encoder


def estimate_poses(
    clips: list[Clip],
    args: argparse.Namespace,
    encoder: Encoder | None,
    progress: ProgressPrinter,
) -> None:
    """Landmarks of the clips that lack them: with ``encoder`` when it finds poses, else
    BlazePose.

    Parameters
    ----------
    clips : list of Clip
        Their ``pose`` is filled in place.
    args : argparse.Namespace
        ``fps``: the sampling rate.
    encoder : Encoder or None
        The encoder of the features, if one was built.
    progress : ProgressPrinter
    """
    from avr_gui.core.features import get_encoder
    from avr_gui.core.features.pose import FusedEncoder, PoseEncoder, encode_pose_video

    if isinstance(encoder, FusedEncoder):
        encoder = encoder.pose  # its appearance half adds nothing to the landmarks
    elif not isinstance(encoder, PoseEncoder):
        encoder = get_encoder("pose-blazepose")
    for clip in clips:
        if clip.pose is None:
            _, clip.pose = encode_pose_video(
                clip.path, encoder, fps=args.fps, on_warning=warn, progress=progress
            )
