"""``avr export --grid``: the query and several matches tiled, each re-timed to the query."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from avr_gui.cli.export_clips import (
    Clip,
    align_pair,
    check_index,
    clip_features,
    export_settings,
    open_library,
    result_summary,
)
from avr_gui.cli.output import warn
from avr_gui.core.errors import InputError

#: Options of ``avr export`` a grid has no use for (flag, what it is about).
_PAIR_ONLY = (
    ("map", "--map"),
    ("timeline", "--timeline"),
    ("skeleton", "--skeleton"),
    ("realign", "--realign"),
)


def _check_args(args: argparse.Namespace) -> None:
    """Refuse, in one line, options that do not apply to a grid."""
    from avr_gui.core.export import MAX_TILES

    for attr, flag in _PAIR_ONLY:
        if getattr(args, attr, None):
            raise InputError(f"{flag} applies to a pair, not to --grid")
    if args.mode != "retimed":
        raise InputError("--mode applies to a pair: a grid re-times every match to the query")
    if args.audio == "match":
        raise InputError("a grid carries the query's sound or none (--audio query|none)")
    if not 1 <= len(args.match) <= MAX_TILES - 1:
        raise InputError(f"--grid takes 1 to {MAX_TILES - 1} matches, got {len(args.match)}")


def cmd_export_grid(args: argparse.Namespace) -> int:
    """``avr export QUERY MATCH [MATCH ...] --grid --out FILE``."""
    from avr_gui.core.export import EncodeOptions, check_output, export_grid

    _check_args(args)
    config, progress = export_settings(args)
    out = check_output(args.out, args.query, *args.match)
    index = check_index(args.index) if args.index else None
    clips = [Clip("query", args.query), *(Clip("match", m) for m in args.match)]
    with contextlib.ExitStack() as stack:
        lib = open_library(stack, index, args, config)
        clip_features(clips, lib, args, progress)
    q = clips[0].features
    assert q is not None
    maps, tiles = [], []
    for clip in clips[1:]:
        assert clip.features is not None
        _, curve, aligned = align_pair(args.query, clip.path, q, clip.features, config)
        maps.append((clip.path, curve))
        tiles.append({"path": clip.path, "draq": aligned.draq, "features": clip.source})
    result = export_grid(
        args.query,
        maps,
        out,
        burn_in=args.burn_in,
        tile_height=args.tile_height,
        columns=args.columns,
        audio=args.audio,
        options=EncodeOptions(crf=args.crf, preset=args.preset),
        on_warning=warn,
        progress=progress,
    )
    progress.finish()
    summary = {
        **result_summary(out, "grid", result),
        "query": args.query,
        "matches": tiles,
    }
    if args.json:
        json.dump(summary, sys.stdout)
        print()
    else:
        print(
            f"grid of {len(clips)}: {result.frame_count} frames {result.size[0]}x"
            f"{result.size[1]} at {result.fps:.3f} fps ({result.codec}, audio: {result.audio})"
            f" -> {out} in {result.seconds:.1f} s"
        )
    return 0
