"""The ``avr`` command line: thin over the core, ``--json`` for machines."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from avr_gui import __version__
from avr_gui.core.errors import AvrError, InputError


def _progress_printer(enabled: bool):
    def report(done: int, total: int, message: str) -> None:
        if enabled:
            frac = f" {done}/{total}" if total else f" {done}"
            print(f"\r{message}{frac}   ", end="", file=sys.stderr, flush=True)

    return report


def _alignment_payload(query, candidate, result, keep: str) -> dict:
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


_FEATURE_SUFFIXES = (".npy", ".npz")


def _encoder_for(args: argparse.Namespace, paths: Sequence[str]):
    """The encoder the command needs, or None when every input is a feature array."""
    if all(Path(p).suffix.lower() in _FEATURE_SUFFIXES for p in paths):
        return None
    from avr_gui.core.features import get_encoder

    options = {"size": args.size} if args.size else {}

    def warn(message: str) -> None:
        print(f"avr: warning: {message}", file=sys.stderr)

    return get_encoder(
        args.backend, weights=args.weights, device=args.device, on_fallback=warn, **options
    )


def _load_and_align(args: argparse.Namespace):
    """The two clips' features, the options and their alignment for ``avr align``."""
    from avr_gui.core.align import AlignmentOptions, align_auto
    from avr_gui.core.features import load_sequence

    show = not args.json and sys.stderr.isatty()
    encoder = _encoder_for(args, [args.query, args.candidate])
    q = load_sequence(args.query, encoder=encoder, fps=args.fps, progress=_progress_printer(show))
    c = load_sequence(
        args.candidate, encoder=encoder, fps=args.fps, progress=_progress_printer(show)
    )
    if show:
        print(file=sys.stderr)
    opts = AlignmentOptions(
        context=not args.no_context,
        band=args.band,
        subsequence=args.subsequence,
        draq_method="sampled" if args.draq_samples else "exact",
        draq_samples=args.draq_samples or 100,
        seed=args.seed,
        device=args.device,
    )
    # Long pairs (past MULTISCALE_CELLS) are aligned coarse to fine in bounded memory.
    return q, c, opts, align_auto(q.features, c.features, opts)


def cmd_align(args: argparse.Namespace) -> int:
    from avr_gui.core.align import needs_multiscale
    from avr_gui.core.errors import AlignmentTooLargeError

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
    payload = _alignment_payload(q, c, result, args.keep)
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
    tm = payload["time_map"]
    shown = tm if len(tm) <= 12 else tm[:: max(1, len(tm) // 10)]
    print("time map  query s -> match s")
    for row in shown:
        print(f"          {row['query_time']:8.3f} -> {row['match_time']:8.3f}")
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    from avr_gui.core.atomic import remove_stale_temps
    from avr_gui.core.features import BACKENDS, DEFAULT_BACKEND, encode_video, save_sequence

    if args.list:
        rows = []
        for b in BACKENDS.values():
            ok, why = b.availability()
            rows.append({"name": b.name, "usable": ok, "status": why, "description": b.description})
        if args.json:
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
    if not args.video or not args.output:
        raise InputError("give a VIDEO and -o OUT.npz (or --list)")
    # Before the (long) encoding: a path that cannot be written fails at once.
    target = _check_output_file(args.output)
    # Temporaries of this target left by a killed earlier run go (only dead writers').
    remove_stale_temps(target.parent, target.name)
    show = not args.json and sys.stderr.isatty()
    encoder = _encoder_for(args, [args.video])
    t0 = time.perf_counter()
    # A damaged video's DecodeWarning reaches stderr as a note through main().
    seq = encode_video(args.video, encoder, fps=args.fps, progress=_progress_printer(show))
    seconds = time.perf_counter() - t0
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
        if show:
            print(file=sys.stderr)
        print(
            f"{summary['frames']} frames x {summary['dim']} ({seq.encoder}) -> {args.output} "
            f"in {seconds:.1f} s"
        )
    return 0


def _check_output_file(path: str) -> Path:
    """``path`` once its folder exists and can be written; nothing is created."""
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


def _default_data() -> Path:
    # ../shared/data beside the checkout, as the evaluation data README describes.
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _eval_e2(args: argparse.Namespace, data: Path, progress) -> dict:
    from avr_gui.core.eval.e2 import load_penn, run_e2, split_every_fifth

    if args.library or args.queries:
        if not (args.library and args.queries):
            raise InputError("give both --library and --queries (or neither)")
        library, queries = load_penn(args.library), load_penn(args.queries)
    else:
        path = data / "penn_action" / "penn_action_joints_train.npz"
        if not path.exists():
            raise InputError(f"{path}: missing (set --data to the evaluation data folder)")
        library, queries = split_every_fifth(load_penn(path))
    result = run_e2(library, queries, context=not args.no_context, progress=progress)
    result["best_score"] = result["best"]
    return result


def _eval_plots(protocol: str, result: dict, folder: Path) -> list[str]:
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
    data = Path(args.data) if args.data else _default_data()
    show = not args.json and sys.stderr.isatty()
    progress = _progress_printer(show)
    from avr_gui.core.features import APPEARANCE_BACKEND as DEFAULT_BACKEND
    from avr_gui.core.features import get_encoder

    if args.protocol == "e2":
        result = _eval_e2(args, data, progress)
    elif args.protocol == "e4":
        from avr_gui.core.eval.e4 import run_e4

        enc = get_encoder(args.backend or DEFAULT_BACKEND)
        result = run_e4(enc, context=not args.no_context, seed=args.seed, progress=progress)
    else:
        clips = sorted((data / "real").glob("*.mp4"))
        if not clips:
            raise InputError(f"{data / 'real'}: no clips (set --data to the evaluation data)")
        if args.protocol == "e1":
            from avr_gui.core.eval.e1 import run_e1

            names = [DEFAULT_BACKEND] + [b for b in args.backends.split(",") if b]
            encoders = {n: get_encoder(n) for n in dict.fromkeys(names)}
            r = run_e1(clips, encoders, progress=progress)
            summary = r.summary()
            result = {
                "backend": DEFAULT_BACKEND,
                **summary[DEFAULT_BACKEND],
                "per_backend": summary,
                "per_clip": r.errors,
            }
        else:
            from avr_gui.core.eval.e3 import run_e3

            result = run_e3(clips, get_encoder(args.backend or DEFAULT_BACKEND), progress=progress)
    if args.plots:
        result["plots"] = _eval_plots(args.protocol, result, Path(args.plots))
    if show:
        print(file=sys.stderr)
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


def _add_encoder_options(p: argparse.ArgumentParser) -> None:
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND as DEFAULT_BACKEND

    p.add_argument(
        "--backend",
        default=DEFAULT_BACKEND,
        help=f"frame encoder for videos (default {DEFAULT_BACKEND}; see `avr features --list`)",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="FILE",
        help="your weights: a state dict for effnet-lite0, or the model file for "
        "torchscript / onnx",
    )
    p.add_argument("--size", type=int, default=None, help="encoder input size in pixels")


def cmd_demo(args: argparse.Namespace) -> int:
    from avr_gui.core.demo import run_demo

    t0 = time.perf_counter()
    show = not args.json and sys.stderr.isatty()
    from avr_gui.core.features import default_backend

    backend = args.backend or default_backend(
        on_fallback=lambda msg: print(f"avr: note: {msg}", file=sys.stderr)
    )
    summary = run_demo(
        Path(args.dir), backend=backend, quiet=args.json, progress=_progress_printer(show)
    )
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print()
    return 0


# Subcommands that live in their own module; each exposes ``register(subparsers)``.
_SUBCOMMAND_MODULES: tuple[str, ...] = (
    "avr_gui.cli_library",
    "avr_gui.cli_export",
    "avr_gui.cli_models",
)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="avr",
        description="AVR Studio: find, rank and time-align videos whose action matches a query.",
    )
    ap.add_argument("--version", action="version", version=f"AVR Studio {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    al = sub.add_parser(
        "align",
        help="align two clips (videos or feature arrays) and score how alignable they are",
        description="Align QUERY with CANDIDATE by DTW on (contextualized) frame features and "
        "report DRAQ, the DTW cost, the warp path and the time map.",
    )
    al.add_argument("query", help="video file, .npy [T, d] array or .npz with 'features'")
    al.add_argument("candidate", help="video file, .npy [T, d] array or .npz with 'features'")
    al.add_argument("--json", action="store_true", help="print one JSON object")
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
        "--fps",
        type=float,
        default=10.0,
        help="sampling rate for videos / frame spacing of .npy arrays (default 10)",
    )
    al.add_argument("--device", default=None, help="auto (default), cpu or cuda")
    _add_encoder_options(al)
    al.set_defaults(func=cmd_align)

    fe = sub.add_parser(
        "features",
        help="compute per-frame features of a video and save them (.npz)",
        description="Decode VIDEO at --fps, encode each sampled frame and write OUT.npz with "
        "'features' [T, d], 'timestamps' [T] (seconds in the source) and 'frame_indices' [T].",
    )
    fe.add_argument("video", nargs="?", help="video file")
    fe.add_argument("-o", "--output", help="output .npz file")
    fe.add_argument("--fps", type=float, default=10.0, help="sampling rate (default 10)")
    fe.add_argument("--list", action="store_true", help="list the backends usable here")
    fe.add_argument("--json", action="store_true", help="print a JSON summary")
    fe.add_argument("--device", default=None, help="auto (default), cpu or cuda")
    _add_encoder_options(fe)
    fe.set_defaults(func=cmd_features)

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
    ev.add_argument("--backends", default="", help="E1: more backends to compare, comma-separated")
    ev.add_argument("--backend", default=None, help="E3/E4: encoder (default: the default backend)")
    ev.add_argument("--no-context", action="store_true", help="E2/E4: align raw frame features")
    ev.add_argument("--seed", type=int, default=0, help="E4: seed of the generated clips")
    ev.add_argument("--plots", metavar="DIR", help="write PNG plots of the results into DIR")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=cmd_eval)

    de = sub.add_parser(
        "demo",
        help="generate a library, index it, query it and export the best match",
        description="Headless demo: generates a library of a drawn person doing three "
        "exercises (plus distractors) in DIR/library, indexes it into DIR/index, queries it "
        "with a squat, and writes results.json, the cost matrix with the warp path, the time "
        "map (CSV, JSON), the best match re-timed to the query and a side-by-side video.",
    )
    de.add_argument(
        "--backend",
        default=None,
        help="frame encoder (default: auto, pose where a person performs; effnet-lite0 "
        "without the pose models)",
    )
    de.add_argument("dir", nargs="?", default="avr-demo", help="output folder (default avr-demo)")
    de.add_argument("--json", action="store_true", help="print a JSON summary")
    de.set_defaults(func=cmd_demo)
    for name in _SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return ap


def _missing_folder(exc: OSError) -> Path | None:
    """The folder that does not exist when ``exc`` is about a file inside it."""
    name = exc.filename
    if not isinstance(exc, FileNotFoundError) or not isinstance(name, str | bytes) or not name:
        return None
    folder = Path(os.fsdecode(name)).parent
    return None if folder.exists() else folder


def _one_line(text: str) -> str:
    return " ".join(text.split())


@contextlib.contextmanager
def _warnings_as_notes() -> Iterator[None]:
    """Show Python warnings as ``avr: note: MESSAGE`` lines, each message once.

    Python's own format (file, line number, category, source line) is noise to a user
    of the command; the filters stay as they are, so ``-W`` still works.
    """
    shown: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = _one_line(str(message)) or category.__name__
        if text not in shown:
            shown.add(text)
            print(f"avr: note: {text}", file=sys.stderr)

    # showwarning is module state, so the decoder's prefetch thread is covered too.
    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avr``; returns the exit status."""
    with _warnings_as_notes():
        parser = build_parser()
        args = parser.parse_args(argv)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; every expected failure is one line on stderr."""
    try:
        return int(args.func(args))
    except AvrError as exc:
        print(f"avr: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`avr ... | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        folder = _missing_folder(exc)
        if folder is not None:
            # Writers go through a temporary file beside the target: name the folder the
            # user gave, not that file.
            print(f"avr: error: {folder}: no such folder", file=sys.stderr)
            return 2
        print(f"avr: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("avr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
