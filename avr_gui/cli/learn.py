"""``avr learn``: teach a library a pose model from its labelled clips, show it, revert it."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from avr_gui.cli.options import (
    add_device_option,
    add_json_option,
    command_config,
    device_of,
    progress_for,
)
from avr_gui.cli.output import note, print_json
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import Cancelled, CancelToken

if TYPE_CHECKING:
    from avr_gui.core.library.learned import LearnedInfo


def info_payload(info: LearnedInfo | None) -> dict[str, Any] | None:
    """The JSON of a learned model (``avr learn --status``, ``avr status``), or None."""
    if info is None:
        return None
    return {
        "name": info.name,
        "created": info.created,
        "labels": info.labels,
        "clips": info.clips,
        "skipped": info.skipped,
        "steps": info.steps,
        "seed": info.seed,
        "started_from": info.started_from,
    }


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: CancelToken, quiet: bool) -> Iterator[None]:
    """The first Ctrl+C stops training at the end of its step (keeping a checkpoint);
    a second one interrupts at once."""

    def first(signum: int, frame: object) -> None:
        cancel.cancel()
        if not quiet:
            print(
                "\navr: stopping after this step (Ctrl+C again to quit at once)",
                file=sys.stderr,
                flush=True,
            )
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread (tests calling main() from a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def single_thread_cpu(device: str | None) -> None:
    """One torch thread when running on the CPU (the learned encoder is small).

    Torch's pool (one thread per core) costs more than it gives for it and, on a busy
    machine, spins: embedding Penn Action's 1,258 sequences took 22 s with the pool
    and 2.6 s with one thread on 2 cores under a load of 3.

    Parameters
    ----------
    device : str or None
        As ``--device`` gives it (None: CUDA when present).
    """
    from avr_gui.core.device import resolve_device

    if resolve_device(device) == "cpu":
        import torch

        torch.set_num_threads(1)


def cmd_learn(args: argparse.Namespace) -> int:
    """``avr learn --index DIR [--labels CSV | --by-folder] | --revert | --status``."""
    from avr_gui.core.library import Library
    from avr_gui.core.library.learned import learn, read_labels_csv, revert

    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")
    # Opened read-only first: a mistyped --index is an error, never a new library.
    with Library.open(args.index, readonly=True) as lib:
        info = lib.learned_model()
    if args.status:
        return _print_status(args, info)
    if args.revert:
        with Library.open(args.index) as lib:
            removed = revert(lib)
        if args.json:
            print_json({"reverted": removed})
        else:
            print(
                "learned model removed: performer clips are compared by the default pose "
                "features again"
                if removed
                else "no learned model: performer clips are compared by the default features"
            )
        return 0
    config = command_config({"device": args.device})
    device = device_of(config)
    progress = progress_for(args)
    cancel = CancelToken()
    with Library.open(args.index) as lib:
        labels = None
        if args.labels:
            indexed = [e.path for e in lib.entries() if e.status == "indexed"]
            labels = read_labels_csv(args.labels, indexed)
        single_thread_cpu(device)
        kw = {} if args.steps is None else {"steps": args.steps}
        try:
            with _ctrl_c_cancels(cancel, not progress.enabled):
                summary = learn(
                    lib,
                    labels,
                    seed=args.seed,
                    device=device,
                    progress=progress,
                    cancel=cancel,
                    **kw,
                )
        except Cancelled:
            progress.finish()
            note("training stopped; its checkpoint is kept: run the same command to resume")
            return 130
    progress.finish()
    info = summary.info
    if args.json:
        print_json(
            {
                **(info_payload(info) or {}),
                "resumed_from": summary.resumed_from,
                "seconds": round(summary.seconds, 3),
                "device": summary.device,
                "final_loss": summary.final_loss,
                "skipped_clips": [{"path": p, "reason": r} for p, r in summary.skipped],
            },
            ensure_ascii=False,
        )
    else:
        resumed = f", resumed at step {summary.resumed_from}" if summary.resumed_from else ""
        print(
            f"learned from {info.clips} clips of {len(info.labels)} labels in "
            f"{summary.seconds:.0f} s on {summary.device}{resumed}"
        )
        print("labels   " + ", ".join(f"{k} ({v})" for k, v in info.labels.items()))
        if summary.skipped:
            print(f"skipped  {len(summary.skipped)} labelled clips:")
            for p, r in summary.skipped:
                print(f"  {p}: {r}")
        print(f"compared by: {info.describe()}")
    return 0


def _print_status(args: argparse.Namespace, info: LearnedInfo | None) -> int:
    from avr_gui.core.library.learned import compared_by

    if args.json:
        print_json({"learned_model": info_payload(info)}, ensure_ascii=False)
        return 0
    print(f"compared by: {compared_by(info)}")
    if info is not None:
        print("labels   " + ", ".join(f"{k} ({v})" for k, v in info.labels.items()))
        start = "from scratch" if info.started_from == "scratch" else "from the shipped model"
        print(f"trained  {info.created}, {info.steps} steps, seed {info.seed}, {start}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``learn`` to the ``avr`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    p = sub.add_parser(
        "learn",
        help="teach a library a pose model from its labelled clips (LRProp)",
        description="Train a pose model on the library's stored poses (no video is decoded): "
        "clips sharing a label (their folder's name, or --labels CSV) are aligned and pulled "
        "together. From then on performer clips are compared by it. Ctrl+C stops and keeps "
        "a checkpoint: the same command resumes. --revert goes back to the default features.",
    )
    p.add_argument("--index", required=True, metavar="DIR", help="the library's index folder")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--labels", metavar="CSV", help="labels from a CSV of path,label rows (one per clip)"
    )
    which.add_argument(
        "--by-folder",
        action="store_true",
        help="label each clip by the name of its folder (the default)",
    )
    which.add_argument(
        "--revert", action="store_true", help="remove the learned model (default features)"
    )
    which.add_argument(
        "--status", action="store_true", help="say which model the library compares clips by"
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        # The core's DEFAULT_STEPS (not imported here: `avr --help` stays light).
        help="training steps (default 1000)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    add_device_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_learn)
