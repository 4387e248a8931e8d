"""E3 (cross-person search on the real clips) for appearance, pose and fused features,
and E2 through the same pose feature definition.

Run: ``python benchmarks/eval_pose_e3.py [--data ../shared/data] [--models DIR]
[--weights 0.3,0.5,0.7,0.85] [--cache out/pose_e3_cache] [--json out/eval_pose_e3.json]``.

Every clip is decoded and encoded once per model (BlazePose via ``encode_pose_video``,
EfficientNet-Lite0 224 via ``encode_video``, both at 10 fps, so the frames are the same
timestamps); fused features are built from those with ``FusedEncoder.combine``, with the
appearance block raw or standardised by library statistics (mean and std over all frames
of the 13 clips, no labels). Each configuration goes through ``run_e3`` (the same
protocol as ``benchmarks/eval_e3.py``): top-1 / top-3 same-action hits by clip
similarity, DRAQ, DTW cost per step, and the shipped coarse-to-fine ranking.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e2 import PoseSet, run_e2, split_every_fifth
from avr_gui.core.eval.e3 import run_e3
from avr_gui.core.features import encode_video, get_encoder, load_sequence, save_sequence
from avr_gui.core.features.pose import (
    FusedEncoder,
    encode_pose_video,
    penn_pose_features,
    save_pose_track,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _features(clips, pose_enc, app_enc, cache: Path | None) -> tuple[list, list, dict]:
    """Per clip pose and appearance features (cached as .npz when ``cache`` is set)."""
    poses, apps, timing = [], [], {"pose_s": 0.0, "appearance_s": 0.0, "frames": 0}
    for c in clips:
        pf = cache / f"{c.stem}.pose.npz" if cache else None
        af = cache / f"{c.stem}.effnet.npz" if cache else None
        if pf and pf.exists():
            p = load_sequence(pf)
        else:
            t0 = time.perf_counter()
            p, track = encode_pose_video(c, pose_enc)
            timing["pose_s"] += time.perf_counter() - t0
            if pf:
                save_sequence(pf, p)
                save_pose_track(cache / f"{c.stem}.landmarks.npz", track)
        if af and af.exists():
            a = load_sequence(af)
        else:
            t0 = time.perf_counter()
            a = encode_video(c, app_enc)
            timing["appearance_s"] += time.perf_counter() - t0
            if af:
                save_sequence(af, a)
        if not np.array_equal(p.timestamps, a.timestamps):
            raise SystemExit(f"{c.name}: pose and appearance sampled different frames")
        poses.append(p.features)
        apps.append(a.features)
        timing["frames"] += len(p.features)
        has = float((p.features[:, 39] > 0).mean())
        print(f"  {c.name:18s} {len(p.features):4d} frames, person in {has:5.1%}", flush=True)
    return poses, apps, timing


def _e2(data: Path) -> dict:
    with np.load(data / "penn_action" / "penn_action_joints_train.npz", allow_pickle=False) as d:
        off = d["offsets"]
        joints = np.stack([d["x"], d["y"], d["visibility"]], axis=-1).astype(np.float64)
        actions = np.asarray(d["action"])
    seqs = [penn_pose_features(joints[a:b]) for a, b in itertools.pairwise(off)]
    library, queries = split_every_fifth(PoseSet(seqs, actions))
    r = run_e2(library, queries)
    return {k: v for k, v in r.items() if isinstance(v, (int, float, str))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", default=None, help="BlazePose model folder")
    ap.add_argument("--weights", default="0.3,0.5,0.7,0.85", help="fusion pose weights")
    ap.add_argument("--cache", type=Path, default=None, help="reuse features from here")
    ap.add_argument("--no-e2", action="store_true")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    clips = sorted((args.data / "real").glob("*.mp4"))
    if not clips:
        print(f"no clips in {args.data / 'real'}", file=sys.stderr)
        return 2
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    pose_enc = get_encoder("pose-blazepose", weights=args.models)
    app_enc = get_encoder("effnet-lite0")
    print("encoding the library")
    poses, apps, timing = _features(clips, pose_enc, app_enc, args.cache)
    allapp = np.concatenate(apps)
    mean, std = allapp.mean(axis=0), allapp.std(axis=0)
    configs: dict[str, tuple[object, list[np.ndarray]]] = {
        "appearance (effnet-lite0 224)": (app_enc, apps),
        "pose (blazepose)": (pose_enc, poses),
    }
    for w in (float(x) for x in args.weights.split(",") if x):
        for std_app in (False, True):
            fused = FusedEncoder(
                pose_enc,  # type: ignore[arg-type]
                app_enc,
                pose_weight=w,
                appearance_mean=mean if std_app else None,
                appearance_std=std if std_app else None,
            )
            label = f"fused w={w:g}{' app-standardised' if std_app else ''}"
            configs[label] = (
                fused,
                [fused.combine(p, a) for p, a in zip(poses, apps, strict=True)],
            )
    results: dict[str, object] = {"timing": timing, "configs": {}}
    print(f"{'config':34s} top-1: clip DRAQ DTW ranked | top-3: clip DRAQ DTW ranked")
    for label, (enc, feats) in configs.items():
        r = run_e3(clips, enc, features=feats)  # type: ignore[arg-type]
        s = r["summary"]
        best = r["best"]
        row = {
            k: {
                "top1": s[k]["top1_same_action"],
                "top3": s[k]["top3_same_action"],
                "auroc": s[k]["auroc"],
                "fpe_top1": s[k]["fpe_top1"],
            }
            for k in ("clip", "draq", "dtw", best)
        }
        row["queries"] = r["queries"]
        row["ranking"] = best
        row["top1_per_query"] = {q: v[best][0]["clip"] for q, v in r["per_query"].items()}
        row["top1_clip_per_query"] = {q: v["clip"][0]["clip"] for q, v in r["per_query"].items()}
        results["configs"][label] = row  # type: ignore[index]
        n = r["queries"]
        print(
            f"{label:34s} "
            + "  ".join(f"{row[k]['top1']}/{n}" for k in ("clip", "draq", "dtw", best))
            + "  |  "
            + " ".join(f"{row[k]['top3']}/{n}" for k in ("clip", "draq", "dtw", best)),
            flush=True,
        )
    if not args.no_e2:
        e2 = _e2(args.data)
        results["e2_shared_pose_definition"] = e2
        print(
            "E2 (Penn Action, shared pose definition): "
            + ", ".join(f"{k} {v:.3f}" for k, v in e2.items() if isinstance(v, float))
        )
    if args.json:
        write_text(args.json, json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
