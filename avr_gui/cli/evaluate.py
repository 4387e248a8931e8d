"""``avr eval``: the evaluation protocols of EVAL.md on real data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from avr_gui.cli.options import (
    add_encoder_option,
    add_json_option,
    command_config,
    encoder_setting,
    progress_for,
)
from avr_gui.core.errors import InputError
from avr_gui.core.jobs import ProgressCallback


def default_data() -> Path:
    """``../shared/data`` beside the checkout, as the evaluation data README describes.

    Returns
    -------
    pathlib.Path
    """
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _eval_e2(args: argparse.Namespace, data: Path, progress: ProgressCallback) -> dict[str, Any]:
    from avr_gui.core.eval.e2 import load_penn, run_e2, split_every_fifth
    from avr_gui.core.eval.e2_learned import learned_pose_set, resolve_learned

    model = resolve_learned(args.learned)
    if model is not None:
        from avr_gui.cli.learn import single_thread_cpu

        single_thread_cpu(None)

    def load(path: str | Path) -> Any:  # a PoseSet
        if model is None:
            return load_penn(path)
        return learned_pose_set(path, model, progress=progress)

    if args.library or args.queries:
        if not (args.library and args.queries):
            raise InputError("give both --library and --queries (or neither)")
        library, queries = load(args.library), load(args.queries)
    else:
        path = data / "penn_action" / "penn_action_joints_train.npz"
        if not path.exists():
            raise InputError(f"{path}: missing (set --data to the evaluation data folder)")
        library, queries = split_every_fifth(load(path))
    result = run_e2(library, queries, context=not args.no_context, progress=progress)
    result["best_score"] = result["best"]
    if model is not None:
        result["learned"] = args.learned
    return result


def _eval_plots(protocol: str, result: dict[str, Any], folder: Path) -> list[str]:
    from avr_gui.core.eval import plots

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if protocol == "e1":
        written.append(plots.plot_per_clip(result["per_clip"], folder / "e1_per_clip.png"))
    if protocol == "e2":
        recall = {f"R@{k}": {"recall": result[f"recall@{k}"]} for k in (1, 5, 10)}
        written.append(
            plots.plot_bars(
                recall,
                folder / "e2_recall.png",
                title="E2: clip retrieval (Penn Action poses)",
                ylabel="recall@k",
            )
        )
        scores = [k[5:] for k in result if k.startswith("top1_") and k != "top1_best"]
        top1 = {s: {"top-1": result[f"top1_{s}"], "AUROC": result[f"auroc_{s}"]} for s in scores}
        written.append(
            plots.plot_bars(
                top1,
                folder / "e2_rerank.png",
                title="E2: re-ranking the top 10",
                ylabel="top-1 same action / AUROC",
            )
        )
    if protocol == "e3":
        summ = result["summary"]
        q = result["queries"]
        bars = {
            s: {
                "top-1": v["top1_same_action"] / q,
                "top-3": v["top3_same_action"] / q,
                "AUROC": v["auroc"],
            }
            for s, v in summ.items()
        }
        written.append(
            plots.plot_bars(
                bars,
                folder / "e3_ranking.png",
                title="E3: real clips, same action first (share of 9 queries)",
                ylabel="share / AUROC",
            )
        )
    if "curves" in result:
        label = {"e2": "same action", "e4": "phase agreement (APA; 0 across actions)"}
        written.append(
            plots.plot_curves(
                result["curves"],
                folder / f"{protocol}_figure5.png",
                title=f"{protocol.upper()}: Figure 5 ({label.get(protocol, '')})",
            )
        )
    return [str(p) for p in written]


def cmd_eval(args: argparse.Namespace) -> int:
    """``avr eval PROTOCOL``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.features import get_encoder
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND

    if args.learned != "none" and args.protocol != "e2":
        raise InputError("--learned applies to e2 only")
    data = Path(args.data) if args.data else default_data()
    progress = progress_for(args)
    # E3/E4 encode with the chosen encoder; E1 always includes the appearance backend.
    encoder = encoder_setting(
        command_config({"features.encoder": args.backend}), APPEARANCE_BACKEND
    )
    if args.protocol == "e2":
        result = _eval_e2(args, data, progress)
    elif args.protocol == "e4":
        from avr_gui.core.eval.e4 import run_e4

        enc = get_encoder(encoder)
        result = run_e4(enc, context=not args.no_context, seed=args.seed, progress=progress)
    else:
        clips = sorted((data / "real").glob("*.mp4"))
        if not clips:
            raise InputError(f"{data / 'real'}: no clips (set --data to the evaluation data)")
        if args.protocol == "e1":
            from avr_gui.core.eval.e1 import run_e1

            names = [APPEARANCE_BACKEND] + [b for b in args.backends.split(",") if b]
            encoders = {n: get_encoder(n) for n in dict.fromkeys(names)}
            r = run_e1(clips, encoders, progress=progress)
            summary = r.summary()
            result = {
                "backend": APPEARANCE_BACKEND,
                **summary[APPEARANCE_BACKEND],
                "per_backend": summary,
                "per_clip": r.errors,
            }
        else:
            from avr_gui.core.eval.e3 import run_e3

            result = run_e3(clips, get_encoder(encoder), progress=progress)
    if args.plots:
        result["plots"] = _eval_plots(args.protocol, result, Path(args.plots))
    progress.finish()
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        for key, value in result.items():
            if isinstance(value, float):
                print(f"{key:22s} {value:.3f}")
            elif not isinstance(value, dict):
                print(f"{key:22s} {value}")
            else:
                print(f"{key:22s} {json.dumps(value)[:200]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``eval`` to the ``avr`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    ev = sub.add_parser(
        "eval",
        help="run an evaluation protocol of EVAL.md on real data",
        description="E1: warp recovery on the real clips (per backend); E2: retrieval and "
        "alignability on Penn Action joints; E3: cross-person search on the real clips; E4: "
        "frame-representation metrics on generated clips with known phases.",
    )
    ev.add_argument("protocol", choices=("e1", "e2", "e3", "e4"))
    ev.add_argument("--data", default=None, help="evaluation data folder (default ../shared/data)")
    ev.add_argument("--library", help="E2: library sequences (.npz, Penn Action layout)")
    ev.add_argument("--queries", help="E2: query sequences (.npz, Penn Action layout)")
    ev.add_argument(
        "--learned",
        default="none",
        metavar="shipped|none|MODEL",
        help="E2: per-frame vectors from a learned pose model (the shipped one, or a model "
        "file such as INDEX/learned/model-*.npz) instead of the raw pose vectors",
    )
    ev.add_argument("--backends", default="", help="E1: more backends to compare, comma-separated")
    add_encoder_option(
        ev, "E3/E4: encoder (default from config: auto, which is the appearance backend here)"
    )
    ev.add_argument("--no-context", action="store_true", help="E2/E4: align raw frame features")
    ev.add_argument("--seed", type=int, default=0, help="E4: seed of the generated clips")
    ev.add_argument("--plots", metavar="DIR", help="write PNG plots of the results into DIR")
    add_json_option(ev)
    ev.set_defaults(func=cmd_eval)
