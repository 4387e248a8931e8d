"""``avr demo``: a generated library, indexed, queried and exported, headless."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from avr_gui.cli.options import (
    add_encoder_option,
    add_json_option,
    command_config,
    encoder_setting,
    progress_for,
)
from avr_gui.cli.output import note


def cmd_demo(args: argparse.Namespace) -> int:
    """``avr demo [DIR]``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.demo.run import run_demo
    from avr_gui.core.features import default_backend

    t0 = time.perf_counter()
    progress = progress_for(args)
    backend = encoder_setting(
        command_config({"features.encoder": args.backend}), None
    ) or default_backend(on_fallback=note)
    summary = run_demo(Path(args.dir), backend=backend, quiet=args.json, progress=progress)
    progress.finish()
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``demo`` to the ``avr`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    de = sub.add_parser(
        "demo",
        help="generate a library, index it, query it and export the best match",
        description="Headless demo: generates a library of a drawn person doing three "
        "exercises (plus distractors) in DIR/library, indexes it into DIR/index, queries it "
        "with a squat, and writes results.json, the cost matrix with the warp path, the time "
        "map (CSV, JSON), the best match re-timed to the query and a side-by-side video.",
    )
    add_encoder_option(
        de,
        "frame encoder (default from config: auto, pose where a person performs; "
        "effnet-lite0 without the pose models)",
    )
    de.add_argument("dir", nargs="?", default="avr-demo", help="output folder (default avr-demo)")
    add_json_option(de, "print a JSON summary")
    de.set_defaults(func=cmd_demo)
