"""``avr export``: a retimed or comparison video, the per-frame time map and a timeline.

With ``--grid`` and several matches: the query and every match tiled in one video,
each match re-timed to the query (:mod:`avr_gui.cli.export_grid`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from avr_gui.cli.export_clips import (
    POSE_ONLY_BACKENDS,
    Clip,
    align_pair,
    check_index,
    clip_features,
    estimate_poses,
    export_settings,
    open_library,
    result_summary,
)
from avr_gui.cli.options import (
    add_device_option,
    add_encoder_options,
    add_fps_option,
    add_json_option,
    encoder_for,
)
from avr_gui.cli.output import warn
from avr_gui.core.errors import InputError

if TYPE_CHECKING:
    from avr_gui.core.export import FrameMap, WarpCurve


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
        warn(
            f"{map_path.name} does not record which files it was made for (an older map), "
            "so it cannot be verified against these clips; --realign writes a new one"
        )
    return fmap, curve, verified


def cmd_export(args: argparse.Namespace) -> int:
    """``avr export QUERY MATCH --out FILE``."""
    if args.grid:
        from avr_gui.cli.export_grid import cmd_export_grid

        return cmd_export_grid(args)
    if len(args.match) != 1:
        raise InputError(f"{len(args.match)} matches given: several matches need --grid")
    args.match = args.match[0]
    if args.mode != "side-by-side" and (args.layout != "auto" or args.scale != "query"):
        raise InputError("--layout and --scale apply to --mode side-by-side")
    from avr_gui.core.export import (
        EncodeOptions,
        build_timeline,
        check_output,
        export_video,
        save_map,
        save_timeline,
    )
    from avr_gui.core.video import probe

    config, progress = export_settings(args)
    out = check_output(args.out, args.query, args.match)
    map_path = Path(args.map) if args.map else None
    if map_path is not None and map_path.suffix.lower() not in (".json", ".csv"):
        raise InputError(f"{map_path}: --map must name a .json or .csv file")
    if args.timeline and Path(args.timeline).suffix.lower() != ".otio":
        raise InputError(f"{args.timeline}: --timeline must name a .otio file")
    index = check_index(args.index) if args.index else None
    qinfo, minfo = probe(args.query), probe(args.match)

    reused = map_path is not None and map_path.exists() and not args.realign
    clips = [Clip("query", args.query), Clip("match", args.match)]
    curve = None
    draq = None
    encoder = None
    verified = None
    with contextlib.ExitStack() as stack:
        # A reused map needs no features, so no library either.
        lib = open_library(stack, None if reused else index, args, config)
        if reused:
            fmap, curve, verified = _reuse_map(map_path, args)
        else:
            encoder = clip_features(clips, lib, args, progress)
            q, m = clips[0].features, clips[1].features
            assert q is not None and m is not None
            fmap, curve, result = align_pair(args.query, args.match, q, m, config)
            draq = result.draq
            if map_path is not None:
                save_map(
                    map_path,
                    fmap,
                    {"query": str(args.query), "match": str(args.match)},
                    sources=(args.query, args.match),
                )
    if args.skeleton and any(c.pose is None for c in clips):
        if encoder is None and args.backend in POSE_ONLY_BACKENDS:
            encoder = encoder_for(args, config, [args.query, args.match])
        elif encoder is None and args.backend == "pose-fused":
            from avr_gui.core.features import get_encoder

            # The landmarks come from the pose half alone: no appearance model to load.
            encoder = get_encoder("pose-blazepose", weights=args.weights)
        estimate_poses(clips, args, encoder, progress)
    result = export_video(
        args.query,
        args.match,
        out,
        fmap,
        mode=args.mode,
        audio=args.audio,
        burn_in=args.burn_in,
        arrangement=args.layout,
        scale=args.scale,
        curve=curve,
        options=EncodeOptions(crf=args.crf, preset=args.preset),
        skeleton=args.skeleton,
        query_pose=clips[0].pose,
        match_pose=clips[1].pose,
        on_warning=warn,
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
    progress.finish()
    summary = {
        **result_summary(out, result.mode, result),
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
    from avr_gui.core.export_choices import ARRANGEMENTS, AUDIO_SOURCES, MAX_TILES, MODES, SCALES

    ex = sub.add_parser(
        "export",
        help="write the match retimed to the query (or a comparison video) for an editor",
        description="Align MATCH to QUERY (or reuse a stored time map) and write a video: "
        "the match retimed to the query's timing, the query retimed to the match "
        "(reverse), or both side by side / blended; optionally the per-frame time map "
        "(CSV/JSON) and an OpenTimelineIO timeline. With --grid and up to "
        f"{MAX_TILES - 1} matches: the query and every match tiled in one video, each "
        "match re-timed to the query. See docs/export.md.",
    )
    ex.add_argument("query", help="query video (its timing is kept, except in reverse mode)")
    ex.add_argument("match", nargs="+", help="matching video (several with --grid)")
    ex.add_argument("--out", required=True, help="output video (.mp4, .m4v, .mov or .mkv)")
    ex.add_argument("--mode", choices=MODES, default="retimed", help="what to write")
    ex.add_argument(
        "--layout",
        choices=ARRANGEMENTS,
        default="auto",
        help="side-by-side: match beside (left-right) or below (top-bottom) the query; "
        "auto: below a portrait query, else beside (default)",
    )
    ex.add_argument(
        "--scale",
        choices=SCALES,
        default="query",
        help="side-by-side: query = the match fitted to the query's height (width when "
        "stacked; default); equal = both as tall (wide) as the larger clip; original = "
        "each at its own resolution, on black",
    )
    ex.add_argument(
        "--grid",
        action="store_true",
        help="tile the query and every MATCH, each re-timed to the query, in one video",
    )
    ex.add_argument(
        "--tile-height",
        type=int,
        metavar="PX",
        help="--grid: height of each tile (default: the query's height)",
    )
    ex.add_argument(
        "--columns",
        type=int,
        metavar="N",
        help="--grid: tiles per row (default: the squarest grid, 2x2 for 4 tiles)",
    )
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
        "--burn-in",
        action="store_true",
        help="burn each clip's name, SMPTE timecode (HH:MM:SS:FF) and frame number into "
        "the picture",
    )
    ex.add_argument(
        "--skeleton",
        action="store_true",
        help="draw each clip's body-pose skeleton on its frames (poses from --encoder when "
        "it is a pose backend, else BlazePose: `avr models install pose`)",
    )
    ex.add_argument("--crf", type=int, default=18, help="H.264 quality, lower = better (18)")
    ex.add_argument("--preset", default="veryfast", help="x264 speed preset (veryfast)")
    add_fps_option(ex, "sampling rate of the alignment")
    add_device_option(ex)
    ex.add_argument(
        "--index",
        metavar="DIR",
        help="a library index (`avr index`): reuse its stored features of these exact files "
        "instead of encoding them (read only: nothing in DIR is written); without "
        "--encoder, the library's encoder is used",
    )
    add_json_option(ex, "print a JSON summary")
    # No --encoder: the library's encoder with --index, else the setting's.
    add_encoder_options(ex)
    ex.set_defaults(func=cmd_export)
