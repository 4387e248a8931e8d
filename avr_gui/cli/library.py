"""``avr index``, ``avr status`` and ``avr query``: the library from the command line."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from avr_gui.cli.options import (
    AUTO,
    add_device_option,
    add_encoder_option,
    add_json_option,
    add_weights_option,
    command_config,
    default_help,
    device_of,
    is_default,
    progress_for,
)
from avr_gui.cli.output import note, print_json
from avr_gui.core.errors import InputError

if TYPE_CHECKING:
    from avr_gui.core.config import Config
    from avr_gui.core.library import Library


def _config(args: argparse.Namespace) -> Config:
    """The settings of a library command, its options over the user's."""
    return command_config(
        {
            "features.encoder": getattr(args, "backend", None),
            "device": getattr(args, "device", None),
            "query.top": getattr(args, "top", None),
            "query.candidates": getattr(args, "candidates", None),
        }
    )


def _open(
    args: argparse.Namespace, config: Config, *, reindex: bool = False, readonly: bool = False
) -> Library:
    from avr_gui.core.library import Library

    encoder = None
    new_library = (
        reindex is False
        and getattr(args, "folders", None) is not None
        and not (Path(args.index) / "catalog.sqlite").exists()
    )
    name = getattr(args, "backend", None)
    if name is None and new_library and not is_default(config, "features.encoder"):
        # The user's encoder setting chooses a new library's features; an existing
        # library keeps its own (changing it takes --reindex --encoder). `auto` is the
        # library's own default, with its fallback when the pose models are missing.
        setting = config.get_str("features.encoder")
        name = None if setting == AUTO else setting
    if name:
        from avr_gui.core.features import get_encoder

        encoder = get_encoder(name, weights=args.weights, device=device_of(config))
    elif new_library:
        # A new library gets `auto` features; say so when pose is not available here
        # (an existing library keeps its own encoder, so nothing to say then).
        from avr_gui.core.features import default_backend

        default_backend(on_fallback=note)
    # Read commands open read-only: a mistyped --index is an error, never a new library,
    # and a library on a read-only mount can still be queried.
    return Library.open(args.index, encoder=encoder, reindex=reindex, readonly=readonly)


def cmd_index(args: argparse.Namespace) -> int:
    """``avr index FOLDER... --index DIR``."""
    if args.reindex and not args.backend:
        raise InputError("--reindex needs --encoder: the encoder to re-index with")
    if args.engine != "ray" and (args.address or args.workers):
        raise InputError("--address and --workers need --engine ray")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    config = _config(args)
    progress = progress_for(args)
    with _open(args, config, reindex=args.reindex) as lib:
        for folder in args.folders:
            lib.add_folder(folder)
        if args.engine == "ray":
            # Imported here: the module is light, but only this engine needs it.
            from avr_gui.core.scale.ray_engine import index_with_ray

            summary = index_with_ray(
                lib, address=args.address, workers=args.workers, progress=progress
            )
        else:
            summary = lib.index(progress=progress)
        status = lib.status()
    progress.finish()
    payload = asdict(summary)
    payload["seconds"] = round(payload["seconds"], 3)
    payload["failures"] = [{"path": p, "reason": r} for p, r in status.failures]
    payload["damaged"] = _damaged_payload(status.damaged)
    if args.json:
        print_json(payload, ensure_ascii=False)
    else:
        print(
            f"{summary.videos} videos: {summary.indexed} indexed, {summary.failed} failed, "
            f"{summary.pending} pending ({summary.encoded} encoded, {summary.unchanged} "
            f"unchanged, {summary.moved} moved, {summary.removed} removed"
            + (f", {summary.repaired} repaired" if summary.repaired else "")
            + f") in {summary.seconds:.1f} s"
        )
        for p, r in status.failures:
            print(f"  failed: {p}: {r}")
        _print_damaged(status.damaged)
    return 0


def _damaged_payload(damaged: list[tuple[str, float, float]]) -> list[dict]:
    return [
        {"path": p, "readable_s": round(a, 3), "duration_s": round(d, 3)} for p, a, d in damaged
    ]


def _print_damaged(damaged: list[tuple[str, float, float]]) -> None:
    for p, a, d in damaged:
        print(f"  damaged: {p}: readable to {a:.1f} s of {d:.1f} s (used up to there)")


def cmd_status(args: argparse.Namespace) -> int:
    """``avr status --index DIR``."""
    from avr_gui.cli.learn import info_payload
    from avr_gui.core.library.learned import compared_by

    with _open(args, _config(args), readonly=True) as lib:
        st = lib.status()
        folders = [str(f) for f in lib.folders]
        encoder = lib.encoder_name, lib.encoder_version
        pose = lib.is_pose
        indexed = [e for e in lib.entries() if e.status == "indexed"] if pose else []
        learned = lib.learned_model() if encoder[0] == "auto" else None
        proj = lib.projection()
    compact = (
        None
        if proj is None
        else {
            "columns": proj.width,
            "dimensions": proj.start + int(proj.basis.shape[1]),
            "fitted_frames": proj.frames,
        }
    )
    person = None
    no_person = None
    if pose:
        flags = [e.has_person for e in indexed]
        person = {
            "true": flags.count(True),
            "false": flags.count(False),
            "unknown": flags.count(None),
        }
        no_person = [e.path for e in indexed if e.has_person is False]
    payload = {
        "videos": st.videos,
        "indexed": st.indexed,
        "failed": st.failed,
        "pending": st.pending,
        "failures": [{"path": p, "reason": r} for p, r in st.failures],
        "damaged": _damaged_payload(st.damaged),
        "folders": folders,
        "encoder": encoder[0],
        "encoder_version": encoder[1],
        # Pose libraries only (null otherwise): indexed clips by whether a person is seen.
        "has_person": person,
        "no_person": no_person,
        # ``auto`` libraries: the model performer clips are compared by (`avr learn`).
        "learned_model": info_payload(learned),
        # Re-ranking reads a compact copy of each clip's features (null: the full ones).
        "compact": compact,
    }
    if args.json:
        print_json(payload, ensure_ascii=False)
    else:
        print(f"index    {args.index}")
        print(f"encoder  {encoder[0] or '-'} ({encoder[1] or 'none yet'})")
        for f in folders:
            print(f"folder   {f}")
        print(
            f"videos   {st.videos}: {st.indexed} indexed, {st.failed} failed, {st.pending} pending"
        )
        if person is not None:
            tail = f", {person['unknown']} not known (index again)" if person["unknown"] else ""
            if encoder[0] == "auto":
                print(
                    f"features {person['true']} by body pose (a person performs), "
                    f"{person['false']} by appearance{tail}"
                )
                for p in no_person or []:
                    print(f"  appearance: {p}")
                print(f"compared by: {compared_by(learned)}")
            else:
                print(f"person   {person['true']} with a person, {person['false']} without{tail}")
                for p in no_person or []:
                    print(f"  no person: {p}")
        if compact is not None:
            print(
                f"compact  re-ranked on {compact['dimensions']} of {compact['columns']} "
                f"dimensions (fitted on {compact['fitted_frames']} frames)"
            )
        for p, r in st.failures:
            print(f"  failed: {p}: {r}")
        _print_damaged(st.damaged)
        if encoder[0] not in (None, "auto") and st.indexed:
            print(
                f"note     this library compares every clip by {encoder[0]} features; for "
                "pose-aware search of people, re-index it with "
                f"`avr index --index {args.index} --reindex --encoder auto`"
            )
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """``avr query VIDEO --index DIR``."""
    from avr_gui.core.align.ranking import default_ranking
    from avr_gui.core.align.verdict import verdict_label
    from avr_gui.core.library import SCORERS

    # Checked before the settings, which would name the option less plainly.
    if (args.top is not None and args.top < 1) or (
        args.candidates is not None and args.candidates < 1
    ):
        raise InputError("--top and --candidates must be at least 1")
    config = _config(args)
    top, candidates = config.get_int("query.top"), config.get_int("query.candidates")
    alignable = config.get_float("verdict.alignable")
    unlikely = config.get_float("verdict.unlikely")
    progress = progress_for(args)
    trim = tuple(args.trim) if args.trim else None
    with _open(args, config, readonly=True) as lib:
        res = lib.query(
            args.video,
            trim=trim,
            top=top,
            candidates=candidates,
            scorer=None if args.score == "auto" else SCORERS[args.score],
            progress=progress,
        )
    progress.finish()
    rows = []
    for m in res.results:
        rows.append(
            {
                "rank": m.rank,
                "path": m.path,
                "score": m.score,
                "alignable": m.alignable,
                "verdict": verdict_label(m.alignable, alignable=alignable, unlikely=unlikely),
                "draq": m.draq,
                "dtw_cost": m.dtw_cost,
                "normalized_cost": m.normalized_cost,
                "similarity": m.similarity,
                "compared_on": m.compared_on,
                "compared_parts": m.compared_parts,
                "mode": m.mode,
                "query_span_s": list(m.query_span_s) if m.query_span_s else None,
                "match_span_s": list(m.match_span_s) if m.match_span_s else None,
                "has_person": m.has_person,
                "same_footage": m.same_footage,
            }
        )
    by_pose = res.query_performer is True and args.score == "auto"
    if by_pose:
        score_name, sort_key, what = "pose_similarity", "similarity", "pose similarity"
    elif args.score == "auto":
        score_name, sort_key = default_ranking().name, "normalized_cost"
        what = "DTW cost per step" if score_name == "dtw" else score_name
    else:
        score_name = args.score
        sort_key = {"draq": "draq", "dtw": "normalized_cost", "similarity": "similarity"}[
            args.score
        ]
        what = {"draq": "DRAQ", "dtw": "DTW cost per step", "similarity": "clip similarity"}[
            args.score
        ]
    qpose = res.query_pose
    payload = {
        "query": res.query_path or args.video,
        "score": score_name,
        "candidates": candidates,
        "query_has_person": None if qpose is None else bool(qpose.has_pose.any()),
        "query_performer": res.query_performer,
        "pose_model": res.pose_model,
        "results": rows,
    }
    if args.json:
        print_json(payload, ensure_ascii=False)
    else:
        higher = sort_key == "similarity"
        print(f"query {payload['query']}")
        if res.query_performer is not None:
            on = "body pose (a person performs)" if res.query_performer else "appearance"
            print(f"compared on {on}")
        if res.pose_model is not None:
            print(f"compared by: {res.pose_model}")
        print(f"ranked by {what} ({'higher' if higher else 'lower'} = better)")
        for r in rows:
            flag = "  (no person)" if r["has_person"] is False and not res.query_performer else ""
            part = ""
            if r["mode"] != "full" and r["match_span_s"]:
                a, b = r["match_span_s"]
                part = f"  [{r['mode'].replace('_', ' ')}: match {a:.1f}-{b:.1f} s]"
            if r["same_footage"]:
                flag += "  (same footage: the query is cut from it)"
            if r["compared_parts"] not in (None, "whole body"):
                flag += f"  (compared on the {r['compared_parts']} only)"
            p = "  -" if r["alignable"] is None else f"{100 * r['alignable']:3.0f}%"
            print(
                f"{r['rank']:3d}  {what} {r[sort_key]:+.3f}  {r['verdict']:9s} {p}  "
                f"DRAQ {r['draq']:.3f}  {r['path']}{part}{flag}"
            )
    return 0


def _common(p: argparse.ArgumentParser, *, backend: bool = False) -> None:
    p.add_argument("--index", required=True, metavar="DIR", help="the library's index folder")
    add_json_option(p)
    if backend:
        add_encoder_option(
            p,
            "frame encoder (default: the index's own; for a new one, from config: auto, "
            "the default backend)",
        )
        add_weights_option(p, "the encoder's weights")
        add_device_option(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``index``, ``status`` and ``query`` to the ``avr`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    ix = sub.add_parser(
        "index",
        help="add folders to a library and index new, changed, moved and deleted videos",
        description="Add FOLDERs to the library whose index is DIR (created if missing) and "
        "bring it up to date: unchanged files cost a stat, failures are recorded, a killed "
        "run resumes where it stopped.",
    )
    ix.add_argument("folders", nargs="*", metavar="FOLDER", help="folders of videos to add")
    _common(ix, backend=True)
    ix.add_argument(
        "--reindex",
        action="store_true",
        help="re-encode every video with --encoder (needed to change the encoder)",
    )
    ix.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default): this process; ray: decode and encode on a Ray cluster "
        "(needs the 'cluster' extra)",
    )
    ix.add_argument(
        "--address",
        metavar="ADDR",
        help="the Ray cluster to join (default: start one on this machine)",
    )
    ix.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="encoder actors on Ray (default: one per GPU, else one per 2 CPUs)",
    )
    ix.set_defaults(func=cmd_index)

    st = sub.add_parser(
        "status",
        help="counts of indexed, failed and pending videos of a library",
        description="Show the library's folders, encoder, counts and failures.",
    )
    _common(st)
    st.set_defaults(func=cmd_status)

    q = sub.add_parser(
        "query",
        help="find the library's videos that align with a query clip",
        description="Retrieve the --candidates clips most similar to VIDEO, align each with "
        "it and rank them (by the product's ranking score unless --score says otherwise).",
    )
    q.add_argument("video", help="query video (in the library or any file)")
    _common(q, backend=True)
    q.add_argument(
        "--top", type=int, default=None, help=f"results to show {default_help('query.top')}"
    )
    q.add_argument(
        "--candidates",
        type=int,
        default=None,
        metavar="K",
        help=f"clips retrieved by similarity and re-ranked {default_help('query.candidates')}",
    )
    q.add_argument(
        "--trim", nargs=2, type=float, metavar=("IN", "OUT"), help="query in/out points (s)"
    )
    q.add_argument(
        "--score",
        choices=("auto", "draq", "dtw", "similarity"),
        default="auto",
        help="ranking score (default auto: the product's score, fitted on the E2 library; "
        "today the length-normalised DTW cost)",
    )
    q.set_defaults(func=cmd_query)
