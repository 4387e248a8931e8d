"""``avr align`` and ``avr features``: a pair of clips, and one video's features."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avr_gui.cli.options import (
    add_device_option,
    add_encoder_options,
    add_fps_option,
    add_json_option,
    device_of,
    encoder_config,
    encoder_for,
    encoder_setting,
    progress_for,
)
from avr_gui.core.errors import InputError

if TYPE_CHECKING:
    from avr_gui.core.align import Alignment, AlignmentOptions
    from avr_gui.core.features.sequence import FeatureSequence


def alignment_payload(
    query: FeatureSequence, candidate: FeatureSequence, result: Alignment, keep: str
) -> dict[str, Any]:
    """The JSON object ``avr align --json`` prints (without its ``options``).

    Parameters
    ----------
    query, candidate : FeatureSequence
    result : Alignment
    keep : {"query", "candidate"}
        The clip that stays unwarped in the time map.

    Returns
    -------
    dict
    """
    from avr_gui.core.align import time_map_table

    table = time_map_table(result.path, query.timestamps, candidate.timestamps, keep=keep)
    rows = [
        {
            "query_index": float(qi),
            "query_time": round(float(qt), 6),
            "match_index": float(mi),
            "match_time": round(float(mt), 6),
        }
        for qi, qt, mi, mt in zip(
            table["query_index"],
            table["query_time"],
            table["match_index"],
            table["match_time"],
            strict=True,
        )
    ]
    return {
        "query": query.source,
        "candidate": candidate.source,
        "shape": list(result.shape),
        "draq": result.draq,
        "dtw_cost": result.dtw_cost,
        "normalized_cost": result.normalized_cost,
        "path": result.path.tolist(),
        "time_map": rows,
    }


def _load_and_align(
    args: argparse.Namespace,
) -> tuple[FeatureSequence, FeatureSequence, AlignmentOptions, Alignment]:
    """The two clips' features, the options and their alignment for ``avr align``."""
    from avr_gui.core.align import AlignmentOptions, align_auto, needs_multiscale
    from avr_gui.core.features import load_sequence
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND

    config = encoder_config(args)
    args.backend = encoder_setting(config, APPEARANCE_BACKEND)
    fps = config.get_float("features.fps")
    progress = progress_for(args)
    encoder = encoder_for(args, config, [args.query, args.candidate])
    q = load_sequence(args.query, encoder=encoder, fps=fps, progress=progress)
    c = load_sequence(args.candidate, encoder=encoder, fps=fps, progress=progress)
    progress.finish()
    if args.matrix_png and needs_multiscale(q.features.shape[0], c.features.shape[0]):
        # Said before the (long) alignment, not after it.
        raise InputError(
            f"{args.matrix_png}: a pair this long is aligned coarse to fine without its "
            "full cost matrix, so it cannot be drawn; draw shorter excerpts"
        )
    opts = AlignmentOptions(
        context=not args.no_context,
        band=args.band,
        subsequence=args.subsequence,
        draq_method="sampled" if args.draq_samples else "exact",
        draq_samples=args.draq_samples or 100,
        seed=args.seed,
        device=device_of(config),
    )
    # Long pairs (past MULTISCALE_CELLS) are aligned coarse to fine in bounded memory.
    return q, c, opts, align_auto(q.features, c.features, opts, keep_cost=bool(args.matrix_png))


def cmd_align(args: argparse.Namespace) -> int:
    """``avr align QUERY CANDIDATE``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.align import needs_multiscale
    from avr_gui.core.errors import AlignmentTooLargeError

    if args.matrix_png:
        check_output_file(args.matrix_png)  # before the work, not after it
    try:
        q, c, opts, result = _load_and_align(args)
    except MemoryError as exc:
        # Long clips align in bounded memory (avr_gui.core.align.multiscale), but a
        # machine can still run out (huge feature files, other programs): one line,
        # no traceback.
        raise AlignmentTooLargeError(
            f"not enough memory to align {args.query} with {args.candidate}; close other "
            "programs or align shorter clips"
        ) from exc
    # Past the switch the DRAQ baseline is always sampled (see align_auto).
    long_pair = needs_multiscale(q.features.shape[0], c.features.shape[0])
    payload = alignment_payload(q, c, result, args.keep)
    payload["options"] = {
        "context": opts.context,
        "band": opts.band,
        "subsequence": opts.subsequence,
        "draq": "sampled" if long_pair else opts.draq_method,
        "draq_samples": opts.draq_samples if long_pair or opts.draq_method == "sampled" else None,
        "multiscale": long_pair and opts.band is None,
        "seed": opts.seed,
        "keep": args.keep,
    }
    if args.matrix_png:
        from avr_gui.core.demo.render import write_cost_matrix_png

        assert result.cost is not None  # kept below the multiscale switch (checked above)
        write_cost_matrix_png(
            args.matrix_png,
            result.cost,
            result.path,
            q.timestamps,
            c.timestamps,
            title=f"{Path(q.source).name} vs {Path(c.source).name}",
            query_name=Path(q.source).name,
            match_name=Path(c.source).name,
        )
        payload["matrix_png"] = args.matrix_png
    if args.json:
        json.dump(payload, sys.stdout)
        print()
        return 0
    a, b = int(result.path[0, 1]), int(result.path[-1, 1])
    print(f"query     {q.source}  ({q.features.shape[0]} frames)")
    print(f"candidate {c.source}  ({c.features.shape[0]} frames)")
    print(f"DRAQ      {result.draq:.4f}   (lower = more alignable; ~1 = no better than chance)")
    print(f"DTW cost  {result.dtw_cost:.4f}   (per step {result.normalized_cost:.4f})")
    print(f"path      {len(result.path)} steps, candidate frames {a}..{b}")
    if args.matrix_png:
        print(f"matrix    {args.matrix_png}  (cost matrix and path, axes in seconds)")
    tm = payload["time_map"]
    shown = tm if len(tm) <= 12 else tm[:: max(1, len(tm) // 10)]
    print("time map  query s -> match s")
    for row in shown:
        print(f"          {row['query_time']:8.3f} -> {row['match_time']:8.3f}")
    return 0


def _list_backends(as_json: bool) -> int:
    """``avr features --list``."""
    from avr_gui.core.features import BACKENDS, DEFAULT_BACKEND

    rows = []
    for b in BACKENDS.values():
        ok, why = b.availability()
        rows.append({"name": b.name, "usable": ok, "status": why, "description": b.description})
    if as_json:
        json.dump({"default": DEFAULT_BACKEND, "backends": rows}, sys.stdout, indent=2)
        print()
    else:
        for r in rows:
            mark = "default" if r["name"] == DEFAULT_BACKEND else ""
            print(
                f"{r['name']:14s} {'usable' if r['usable'] else 'UNUSABLE':8s} {mark:7s} "
                f"{r['description']} ({r['status']})"
            )
    return 0


def check_output_file(path: str) -> Path:
    """``path`` once its folder exists and can be written; nothing is created.

    Parameters
    ----------
    path : str

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        No such folder, not a folder, a folder named as the file, or no permission.
    """
    p = Path(path)
    folder = p.parent
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a file name")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{folder}: no permission to write in this folder")
    return p


def cmd_features(args: argparse.Namespace) -> int:
    """``avr features VIDEO -o OUT.npz`` (or ``--list``).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.atomic import remove_stale_temps
    from avr_gui.core.features import encode_video, save_sequence
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND

    if args.list:
        return _list_backends(args.json)
    if not args.video or not args.output:
        raise InputError("give a VIDEO and -o OUT.npz (or --list)")
    config = encoder_config(args)
    args.backend = encoder_setting(config, APPEARANCE_BACKEND)
    fps = config.get_float("features.fps")
    # Before the (long) encoding: a path that cannot be written fails at once.
    target = check_output_file(args.output)
    # Temporaries of this target left by a killed earlier run go (only dead writers').
    remove_stale_temps(target.parent, target.name)
    progress = progress_for(args)
    encoder = encoder_for(args, config, [args.video])
    assert encoder is not None  # a video, not a feature file
    t0 = time.perf_counter()
    # A damaged video's DecodeWarning reaches stderr as a note through main().
    seq = encode_video(args.video, encoder, fps=fps, progress=progress)
    seconds = time.perf_counter() - t0
    progress.finish()
    try:
        save_sequence(args.output, seq)
    except OSError as exc:
        # The failure happened on a temporary file beside the output: name the output.
        raise OSError(exc.errno, exc.strerror, args.output) from None
    summary = {
        "video": args.video,
        "output": args.output,
        "backend": seq.encoder,
        "encoder_version": seq.encoder_version,
        "frames": int(seq.features.shape[0]),
        "dim": int(seq.features.shape[1]),
        "seconds": round(seconds, 3),
    }
    if args.json:
        json.dump(summary, sys.stdout)
        print()
    else:
        print(
            f"{summary['frames']} frames x {summary['dim']} ({seq.encoder}) -> {args.output} "
            f"in {seconds:.1f} s"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``align`` and ``features`` to the ``avr`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    al = sub.add_parser(
        "align",
        help="align two clips (videos or feature arrays) and score how alignable they are",
        description="Align QUERY with CANDIDATE by DTW on (contextualized) frame features and "
        "report DRAQ, the DTW cost, the warp path and the time map.",
    )
    al.add_argument("query", help="video file, .npy [T, d] array or .npz with 'features'")
    al.add_argument("candidate", help="video file, .npy [T, d] array or .npz with 'features'")
    add_json_option(al)
    al.add_argument(
        "--no-context", action="store_true", help="align raw frame features (no running mean)"
    )
    al.add_argument(
        "--draq-samples",
        type=int,
        default=0,
        metavar="K",
        help="estimate DRAQ from K seeded random paths (default: exact expectation)",
    )
    al.add_argument("--seed", type=int, default=0, help="seed of the random paths (default 0)")
    al.add_argument(
        "--band",
        type=float,
        default=None,
        metavar="R",
        help="Sakoe-Chiba band radius as a fraction of the longer clip, in (0, 1]",
    )
    al.add_argument(
        "--subsequence",
        action="store_true",
        help="locate the query inside a longer candidate (open begin and end)",
    )
    al.add_argument(
        "--keep",
        choices=("query", "candidate"),
        default="query",
        help="which clip stays unwarped in the time map (default: query)",
    )
    al.add_argument(
        "--matrix-png",
        metavar="FILE",
        help="also draw the cost matrix and the warp path as a PNG (axes in seconds of "
        "each clip, colour bar)",
    )
    add_fps_option(al, "sampling rate for videos / frame spacing of .npy arrays")
    add_device_option(al)
    add_encoder_options(al)
    al.set_defaults(func=cmd_align)

    fe = sub.add_parser(
        "features",
        help="compute per-frame features of a video and save them (.npz)",
        description="Decode VIDEO at --fps, encode each sampled frame and write OUT.npz with "
        "'features' [T, d], 'timestamps' [T] (seconds in the source) and 'frame_indices' [T].",
    )
    fe.add_argument("video", nargs="?", help="video file")
    fe.add_argument("-o", "--output", help="output .npz file")
    add_fps_option(fe, "sampling rate")
    fe.add_argument("--list", action="store_true", help="list the backends usable here")
    add_json_option(fe, "print a JSON summary")
    add_device_option(fe)
    add_encoder_options(fe)
    fe.set_defaults(func=cmd_features)
