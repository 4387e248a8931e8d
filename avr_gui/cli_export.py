"""``avr export``: a retimed or comparison video, the per-frame time map and a timeline."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avr_gui.core.errors import InputError

if TYPE_CHECKING:
    from avr_gui.core.export import FrameMap, WarpCurve
    from avr_gui.core.features.encoders import Encoder
    from avr_gui.core.features.pose import PoseTrack
    from avr_gui.core.features.sequence import FeatureSequence
    from avr_gui.core.jobs import ProgressCallback
    from avr_gui.core.library import Library


def _warn(message: str) -> None:
    print(f"avr: warning: {message}", file=sys.stderr)


def _ignore(message: str) -> None:
    """Drop a message that another line says better."""


def _note(message: str) -> None:
    """One line on stderr saying what the command does (where features come from)."""
    print(f"avr: {message}", file=sys.stderr)


def _progress_shown(args: argparse.Namespace) -> bool:
    """Whether progress lines go to stderr (a terminal, and no ``--json``)."""
    return not args.json and sys.stderr.isatty()


#: What every library index folder holds (see :mod:`avr_gui.core.library.library`).
_CATALOG = "catalog.sqlite"
_STORE = "features"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Pose backends whose own encoder finds the landmarks for ``--skeleton``.
_POSE_ONLY_BACKENDS = ("pose-blazepose", "pose-movenet")


@dataclass
class _Clip:
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


def _check_index(index: str) -> Path:
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


def _library_features(lib: Library, clips: list[_Clip], args: argparse.Namespace) -> bool:
    """Fill in the features (and landmarks) the library holds for these exact files.

    A file's features are looked up by content, the way the indexer stores them: the
    file's fingerprint (size + hash of its content, as the catalog computes it) under the
    library's encoder version. A file changed since it was indexed has another
    fingerprint and is not found; a copy of an indexed file is. Nothing is written.

    Parameters
    ----------
    lib : Library
        The open ``--index`` library.
    clips : list of _Clip
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
        why = f"the library holds {name} features and --backend asks for {args.backend}"
    elif args.fps != DEFAULT_FPS:
        why = f"the library samples at {DEFAULT_FPS:g} fps and --fps asks for {args.fps:g}"
    else:
        why = ""
    if why or name is None or version is None:  # (the None tests narrow the types)
        _note(f"features: encoding both clips: {why}")
        return False
    store = FeatureStore(lib.root / _STORE)  # the folder exists: _check_index saw it
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
            _warn(f"{exc}; encoding {clip.name} instead")
            clip.drop()
            continue
        clip.source = "library"
    return True


def _encode(
    clip: _Clip, args: argparse.Namespace, encoder: Encoder, progress: ProgressCallback, why: str
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
            clip.path, encoder, fps=args.fps, on_warning=_warn, progress=progress
        )
    else:
        clip.features = encode_video(
            clip.path, encoder, fps=args.fps, on_warning=_warn, progress=progress
        )
    if _progress_shown(args):
        print(file=sys.stderr)  # end the progress line
    clip.source = "encoded"


def _features(
    clips: list[_Clip], lib: Library | None, args: argparse.Namespace, progress: ProgressCallback
) -> Encoder | None:
    """Both clips' features: the library's where it has them for these files, else encoded.

    Says on stderr, for each clip, which it was.

    Returns
    -------
    Encoder or None
        The encoder built; None when every feature came from the library.
    """
    usable = lib is not None and _library_features(lib, clips, args)
    found = [c for c in clips if c.source == "library"]
    encoder = None
    if len(found) < len(clips) or args.weights or args.size:
        from avr_gui.cli import _encoder_for

        encoder = _encoder_for(args, [c.path for c in clips])
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


def _estimate_poses(
    clips: list[_Clip],
    args: argparse.Namespace,
    encoder: Encoder | None,
    progress: ProgressCallback,
) -> None:
    """Landmarks of the clips that lack them: with ``encoder`` when it finds poses, else
    BlazePose."""
    from avr_gui.core.features import get_encoder
    from avr_gui.core.features.pose import FusedEncoder, PoseEncoder, encode_pose_video

    if isinstance(encoder, FusedEncoder):
        encoder = encoder.pose  # its appearance half adds nothing to the landmarks
    elif not isinstance(encoder, PoseEncoder):
        encoder = get_encoder("pose-blazepose")
    for clip in clips:
        if clip.pose is None:
            _, clip.pose = encode_pose_video(
                clip.path, encoder, fps=args.fps, on_warning=_warn, progress=progress
            )


def _reuse_map(map_path: Path, args: argparse.Namespace) -> tuple[FrameMap, WarpCurve | None, bool]:
    """A stored time map, checked against the clips.

    Returns
    -------
    (FrameMap, WarpCurve or None, bool)
        The per-frame map, the curve of an ``avr align --json`` map, and whether the
        map's fingerprints confirmed the files (False: an older map without them; a
        warning says so).

    Raises
    ------
    TimeMapFileError
        The map records fingerprints and one of the files differs (the message names
        it), or the map is malformed or does not fit the clips.
    """
    from avr_gui.core.export import FrameMap, TimeMapFileError, frame_map, frame_times
    from avr_gui.core.export.timemap_io import check_map_sources, read_map

    stored = read_map(map_path)
    try:
        verified = check_map_sources(stored, args.query, args.match, name=map_path.name)
    except TimeMapFileError as exc:
        raise TimeMapFileError(f"{exc} (--realign aligns them and overwrites it)") from None
    curve = None
    if isinstance(stored.map, FrameMap):
        fmap = stored.map
        if not verified:  # a map that does not fit says that, not the warning below
            fmap.check_fits(len(frame_times(args.query)), len(frame_times(args.match)))
    else:  # `avr align --json` output: a curve on sampled frames
        curve = stored.map
        fmap = frame_map(curve, frame_times(args.query), frame_times(args.match))
    if not verified:
        _warn(
            f"{map_path.name} does not record which files it was made for (an older map), "
            "so it cannot be verified against these clips; --realign writes a new one"
        )
    return fmap, curve, verified


def cmd_export(args: argparse.Namespace) -> int:
    """``avr export QUERY MATCH --out FILE``."""
    from avr_gui.cli import _progress_printer
    from avr_gui.core.align import AlignmentOptions
    from avr_gui.core.export import (
        EncodeOptions,
        build_timeline,
        check_output,
        export_video,
        save_map,
        save_timeline,
    )
    from avr_gui.core.export.pairing import align_features_for_export
    from avr_gui.core.features.encoders import BACKENDS
    from avr_gui.core.video import probe

    show = _progress_shown(args)
    progress = _progress_printer(show)
    out = check_output(args.out, args.query, args.match)
    map_path = Path(args.map) if args.map else None
    if map_path is not None and map_path.suffix.lower() not in (".json", ".csv"):
        raise InputError(f"{map_path}: --map must name a .json or .csv file")
    if args.timeline and Path(args.timeline).suffix.lower() != ".otio":
        raise InputError(f"{args.timeline}: --timeline must name a .otio file")
    index = _check_index(args.index) if args.index else None
    qinfo, minfo = probe(args.query), probe(args.match)

    reused = map_path is not None and map_path.exists() and not args.realign
    clips = [_Clip("query", args.query), _Clip("match", args.match)]
    curve = None
    draq = None
    encoder = None
    verified = None
    with contextlib.ExitStack() as stack:
        lib = None
        if index is not None and not reused:
            from avr_gui.core.library import Library

            # Read only: opening an existing catalog writes nothing (SQLite keeps its
            # -wal/-shm files only while it is open), and features are only read.
            lib = stack.enter_context(Library.open(index))
        if args.backend is None:  # no --backend: the library's encoder, else the default
            own = lib.encoder_name if lib is not None else None
            args.backend = own if own in BACKENDS else args.backend_default
        if reused:
            fmap, curve, verified = _reuse_map(map_path, args)
        else:
            encoder = _features(clips, lib, args, progress)
            q, m = clips[0].features, clips[1].features
            assert q is not None and m is not None
            fmap, curve, result = align_features_for_export(
                args.query,
                args.match,
                q,
                m,
                options=AlignmentOptions(device=args.device),
                # A damaged clip is named once, by the export, with what it does about it.
                on_warning=_ignore,
            )
            draq = result.draq
            if map_path is not None:
                save_map(
                    map_path,
                    fmap,
                    {"query": str(args.query), "match": str(args.match)},
                    sources=(args.query, args.match),
                )
    if args.skeleton and any(c.pose is None for c in clips):
        from avr_gui.cli import _encoder_for

        if encoder is None and args.backend in _POSE_ONLY_BACKENDS:
            encoder = _encoder_for(args, [args.query, args.match])
        elif encoder is None and args.backend == "pose-fused":
            from avr_gui.core.features import get_encoder

            # The landmarks come from the pose half alone: no appearance model to load.
            encoder = get_encoder("pose-blazepose", weights=args.weights)
        _estimate_poses(clips, args, encoder, progress)
    result = export_video(
        args.query,
        args.match,
        out,
        fmap,
        mode=args.mode,
        audio=args.audio,
        burn_in=args.burn_in,
        curve=curve,
        options=EncodeOptions(crf=args.crf, preset=args.preset),
        skeleton=args.skeleton,
        query_pose=clips[0].pose,
        match_pose=clips[1].pose,
        on_warning=_warn,
        progress=progress,
    )
    if args.timeline:
        timeline = build_timeline(
            fmap,
            args.query,
            args.match,
            query_fps=qinfo.fps or result.fps,
            match_fps=minfo.fps or result.fps,
            match_frames=minfo.frame_count,
            rendered_path=out if args.mode == "retimed" else None,
        )
        save_timeline(args.timeline, timeline)
    if show:
        print(file=sys.stderr)
    summary = {
        "output": str(out),
        "mode": result.mode,
        "frames": result.frame_count,
        "fps": result.fps,
        "width": result.size[0],
        "height": result.size[1],
        "codec": result.codec,
        "audio": result.audio,
        "seconds": round(result.seconds, 3),
        "map": str(map_path) if map_path else None,
        "map_reused": reused,
        "map_verified": verified,
        "features": None if reused else {c.role: c.source for c in clips},
        "timeline": args.timeline,
        "draq": draq,
        "skeleton_frames": result.skeleton_frames if args.skeleton else None,
    }
    if args.json:
        json.dump(summary, sys.stdout)
        print()
    else:
        print(
            f"{result.mode}: {result.frame_count} frames {result.size[0]}x{result.size[1]} at "
            f"{result.fps:.3f} fps ({result.codec}, audio: {result.audio}) -> {out} "
            f"in {result.seconds:.1f} s"
        )
        if map_path:
            print(f"time map {'reused from' if reused else 'written to'} {map_path}")
        if args.timeline:
            print(f"timeline written to {args.timeline}")
        if args.skeleton:
            print(f"skeletons drawn on {result.skeleton_frames} of {result.frame_count} frames")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand to the ``avr`` parser."""
    from avr_gui.cli import _add_encoder_options
    from avr_gui.core.export import AUDIO_SOURCES, MODES

    ex = sub.add_parser(
        "export",
        help="write the match retimed to the query (or a comparison video) for an editor",
        description="Align MATCH to QUERY (or reuse a stored time map) and write a video: "
        "the match retimed to the query's timing, the query retimed to the match "
        "(reverse), or both side by side / blended; optionally the per-frame time map "
        "(CSV/JSON) and an OpenTimelineIO timeline. See docs/export.md.",
    )
    ex.add_argument("query", help="query video (its timing is kept, except in reverse mode)")
    ex.add_argument("match", help="matching video")
    ex.add_argument("--out", required=True, help="output video (.mp4, .m4v, .mov or .mkv)")
    ex.add_argument("--mode", choices=MODES, default="retimed", help="what to write")
    ex.add_argument(
        "--audio", choices=AUDIO_SOURCES, default="query", help="whose sound (default query)"
    )
    ex.add_argument(
        "--map",
        metavar="FILE",
        help="time map .json/.csv: reused when it exists (also `avr align --json` output; "
        "refused when made for other files), else the alignment is computed and written "
        "there with both files' fingerprints",
    )
    ex.add_argument(
        "--realign", action="store_true", help="align again even when --map exists (overwrite)"
    )
    ex.add_argument("--timeline", metavar="FILE", help="also write an OpenTimelineIO .otio file")
    ex.add_argument(
        "--burn-in", action="store_true", help="burn timecodes and frame numbers into the picture"
    )
    ex.add_argument(
        "--skeleton",
        action="store_true",
        help="draw each clip's body-pose skeleton on its frames (poses from --backend when "
        "it is a pose backend, else BlazePose: `avr models install pose`)",
    )
    ex.add_argument("--crf", type=int, default=18, help="H.264 quality, lower = better (18)")
    ex.add_argument("--preset", default="veryfast", help="x264 speed preset (veryfast)")
    ex.add_argument(
        "--fps", type=float, default=10.0, help="sampling rate of the alignment (default 10)"
    )
    ex.add_argument("--device", default=None, help="auto (default), cpu or cuda")
    ex.add_argument(
        "--index",
        metavar="DIR",
        help="a library index (`avr index`): reuse its stored features of these exact files "
        "instead of encoding them (read only: nothing in DIR is written); without "
        "--backend, the library's encoder is used",
    )
    ex.add_argument("--json", action="store_true", help="print a JSON summary")
    _add_encoder_options(ex)
    # No --backend: the library's encoder with --index, else the usual default.
    ex.set_defaults(func=cmd_export, backend=None, backend_default=ex.get_default("backend"))
