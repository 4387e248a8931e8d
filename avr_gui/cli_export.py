"""``avr export``: a retimed or comparison video, the per-frame time map and a timeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from avr_gui.core.errors import InputError


def _warn(message: str) -> None:
    print(f"avr: warning: {message}", file=sys.stderr)


def _align_with_poses(args: argparse.Namespace, encoder, progress):
    """Align with a pose encoder; the same decoding pass gives both clips' landmarks.

    Returns (FrameMap, WarpCurve, Alignment, query PoseTrack, match PoseTrack).
    """
    from avr_gui.core.align import AlignmentOptions, align
    from avr_gui.core.export import curve_from_path, frame_map, frame_times
    from avr_gui.core.features.pose import encode_pose_video

    q, q_track = encode_pose_video(
        args.query, encoder, fps=args.fps, on_warning=_warn, progress=progress
    )
    m, m_track = encode_pose_video(
        args.match, encoder, fps=args.fps, on_warning=_warn, progress=progress
    )
    result = align(q.features, m.features, AlignmentOptions(device=args.device), keep_cost=False)
    curve = curve_from_path(result.path, q.timestamps, m.timestamps)
    fmap = frame_map(curve, frame_times(args.query), frame_times(args.match))
    return fmap, curve, result, q_track, m_track


def _estimate_poses(args: argparse.Namespace, encoder, progress):
    """Both clips' landmarks: with ``encoder`` when it finds poses, else BlazePose."""
    from avr_gui.core.features import get_encoder
    from avr_gui.core.features.pose import FusedEncoder, PoseEncoder, encode_pose_video

    if isinstance(encoder, FusedEncoder):
        encoder = encoder.pose  # its appearance half adds nothing to the landmarks
    elif not isinstance(encoder, PoseEncoder):
        encoder = get_encoder("pose-blazepose")
    tracks = []
    for path in (args.query, args.match):
        _, track = encode_pose_video(
            path, encoder, fps=args.fps, on_warning=_warn, progress=progress
        )
        tracks.append(track)
    return tracks[0], tracks[1]


def cmd_export(args: argparse.Namespace) -> int:
    from avr_gui.cli import _encoder_for, _progress_printer
    from avr_gui.core.align import AlignmentOptions
    from avr_gui.core.export import (
        EncodeOptions,
        FrameMap,
        align_for_export,
        build_timeline,
        check_output,
        export_video,
        frame_map,
        frame_times,
        load_map,
        save_map,
        save_timeline,
    )
    from avr_gui.core.video import probe

    show = not args.json and sys.stderr.isatty()
    progress = _progress_printer(show)
    out = check_output(args.out, args.query, args.match)
    map_path = Path(args.map) if args.map else None
    if map_path is not None and map_path.suffix.lower() not in (".json", ".csv"):
        raise InputError(f"{map_path}: --map must name a .json or .csv file")
    if args.timeline and Path(args.timeline).suffix.lower() != ".otio":
        raise InputError(f"{args.timeline}: --timeline must name a .otio file")
    qinfo, minfo = probe(args.query), probe(args.match)

    reused = map_path is not None and map_path.exists() and not args.realign
    curve = None
    draq = None
    encoder = None
    query_pose = match_pose = None
    if reused:
        stored = load_map(map_path)
        if isinstance(stored, FrameMap):
            fmap = stored
        else:  # `avr align --json` output: a curve on sampled frames
            curve = stored
            fmap = frame_map(curve, frame_times(args.query), frame_times(args.match))
    else:
        from avr_gui.core.features.pose import FusedEncoder, PoseEncoder

        encoder = _encoder_for(args, [args.query, args.match])
        if args.skeleton and isinstance(encoder, (PoseEncoder, FusedEncoder)):
            fmap, curve, result, query_pose, match_pose = _align_with_poses(args, encoder, progress)
        else:
            fmap, curve, result = align_for_export(
                args.query,
                args.match,
                encoder,
                fps=args.fps,
                options=AlignmentOptions(device=args.device),
                on_warning=_warn,
                progress=progress,
            )
        draq = result.draq
        if map_path is not None:
            save_map(map_path, fmap, {"query": str(args.query), "match": str(args.match)})
    if args.skeleton and query_pose is None:
        if encoder is None and args.backend in ("pose-blazepose", "pose-movenet"):
            encoder = _encoder_for(args, [args.query, args.match])
        elif encoder is None and args.backend == "pose-fused":
            from avr_gui.core.features import get_encoder

            # The landmarks come from the pose half alone: no appearance model to load.
            encoder = get_encoder("pose-blazepose", weights=args.weights)
        query_pose, match_pose = _estimate_poses(args, encoder, progress)
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
        query_pose=query_pose,
        match_pose=match_pose,
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
        help="time map .json/.csv: reused when it exists (also `avr align --json` output), "
        "else the alignment is computed and written there",
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
    ex.add_argument("--json", action="store_true", help="print a JSON summary")
    _add_encoder_options(ex)
    ex.set_defaults(func=cmd_export)
