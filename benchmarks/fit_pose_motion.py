"""Choose the pose-motion representation on Penn Action library sequences only.

Run: ``python benchmarks/fit_pose_motion.py [--data ../shared/data] [--write]
[--json out/fit_pose_motion.json]`` (about a minute; ``--write`` ships the statistics).

The fitting set is E2's *library* (every Penn Action training sequence that is not
every 5th; E2's queries are never touched), sampled at 10 fps like the product, and
made to look like clips in a user's library: each sequence is repeated 1-3 times, cut
to 60-100 % at a random start, re-timed by 0.7-1.4x, its joints jittered by 4 % of the
torso, 5 % of the joints dropped, and half of them mirrored (a camera on the other
side). Every library sequence is then a leave-one-out query against the rest, and the
hit rate is the share whose most similar clip shows the same action (top-1).

It compares, each with and without mirror invariance: frame representations (joint
positions; limb directions; both), clip descriptors (mean; mean and standard deviation;
the same weighted by each frame's motion; plus mean absolute velocity; plus the 10-90 %
range) and, for the chosen one, a DTW
re-rank of the 10 most similar clips (length-normalised cost on contextualized
features), which decides whether performer pairs are re-ranked by alignment.
Descriptors are standardised over the library (and its mirror images), as the product
does. The seed is fixed, so the figures repeat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, augment, load_library

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.atomic import write_text
from avr_gui.core.features.pose import motion
from avr_gui.core.features.pose.normalize import penn_pose_features

SEED = 0


def frame_features(j: np.ndarray, kind: str, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame features of one representation (``motion`` is the product's)."""
    f, valid = motion.motion_features(j, mirror=mirror)
    nseg = 2 * len(motion.SEGMENTS)
    if kind == "directions":
        return f[:, :nseg], valid
    if kind == "positions":
        js = motion.smooth_joints(j, motion.SMOOTH_SIGMA)
        p = penn_pose_features(js, mirror=mirror)[:, :26].astype(np.float32)
        p[~valid] = 0
        return p, valid
    return f, valid


def descriptor(f: np.ndarray, valid: np.ndarray, kind: str) -> np.ndarray:
    """Clip descriptor variants (``weighted``, motion-weighted mean+std, is the product's)."""
    if kind == "weighted":
        return motion.clip_pose_descriptor(f, valid).astype(np.float64)
    if not valid.any():
        width = {"mean": 1, "mean+std": 2}.get(kind, 3)
        return np.zeros(width * f.shape[1])
    g = f[valid].astype(np.float64)
    parts = [g.mean(0)] if kind == "mean" else [g.mean(0), g.std(0)]
    if kind == "+velocity":
        parts.append(np.abs(np.diff(g, axis=0)).mean(0) if len(g) > 1 else np.zeros(g.shape[1]))
    if kind == "+range":
        parts.append(np.percentile(g, 90, 0) - np.percentile(g, 10, 0))
    return np.concatenate(parts)


def similarity(
    seqs: list[np.ndarray], frames: str, desc: str, mirror_invariant: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Library-standardised cosine similarity between all clips, and which are usable."""
    ff = [frame_features(j, frames, False) for j in seqs]
    ok = np.array([v.sum() >= 2 for _, v in ff])
    d = np.stack([descriptor(f, v, desc) for f, v in ff])
    if mirror_invariant:
        dm = np.stack([descriptor(*frame_features(j, frames, True), desc) for j in seqs])
        std = motion.DescriptorStandardizer(np.concatenate([d[ok], dm[ok]]))
    else:
        dm = None
        std = motion.DescriptorStandardizer(d[ok])
    z = std.transform(d)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    s = z @ z.T
    if dm is not None:
        zm = std.transform(dm)
        zm /= np.maximum(np.linalg.norm(zm, axis=1, keepdims=True), 1e-12)
        s = np.maximum(s, zm @ z.T)
    np.fill_diagonal(s, -np.inf)
    s[:, ~ok] = -np.inf
    return s, ok


def top1(s: np.ndarray, ok: np.ndarray, actions: np.ndarray) -> float:
    q = np.flatnonzero(ok)
    return float(np.mean(actions[np.argmax(s[q], axis=1)] == actions[q]))


def dtw_rerank(
    seqs: list[np.ndarray], s: np.ndarray, ok: np.ndarray, actions: np.ndarray, every: int
) -> dict[str, float]:
    """Top-1 of a DTW re-rank of the 10 most similar clips (every ``every``-th query)."""
    q = np.flatnonzero(ok)[::every]
    feats = [motion.motion_features(j) for j in seqs]
    mirr = [motion.motion_features(j, mirror=True) for j in seqs]

    def rows(f: np.ndarray, v: np.ndarray) -> np.ndarray:
        x = f[v]
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    clip_hits = dtw_hits = 0
    for i in q:
        order = np.argsort(-s[i])[:10]
        cands = [rows(*feats[k]) for k in order]
        opts = AlignmentOptions(context=True)
        a = align_many(rows(*feats[i]), cands, opts)
        b = align_many(rows(*mirr[i]), cands, opts)
        cost = np.minimum([r.normalized_cost for r in a], [r.normalized_cost for r in b])
        clip_hits += actions[order[0]] == actions[i]
        dtw_hits += actions[order[int(np.argmin(cost))]] == actions[i]
    return {"queries": len(q), "clip": clip_hits / len(q), "dtw_rerank": dtw_hits / len(q)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--write", action="store_true", help="write resources/pose_motion.json")
    ap.add_argument("--rerank-every", type=int, default=4, help="DTW re-rank every n-th query")
    args = ap.parse_args(argv)
    if not (args.data / "penn_action").is_dir():
        print(f"no Penn Action joints under {args.data}", file=sys.stderr)
        return 2
    lib, actions = load_library(args.data)
    rng = np.random.default_rng(SEED)
    aug = [augment(j, rng) for j in lib]
    rows = []
    print(f"{len(aug)} augmented library sequences, leave-one-out top-1 same action")
    for frames in ("positions", "directions", "motion"):
        for desc in ("mean", "mean+std", "weighted", "+velocity", "+range"):
            for mi in (False, True):
                s, ok = similarity(aug, frames, desc, mi)
                r = {"frames": frames, "descriptor": desc, "mirror_invariant": mi}
                r["top1"] = round(top1(s, ok, actions), 4)
                rows.append(r)
                print(
                    f"  {frames:10s} {desc:9s} mirror {'yes' if mi else 'no ':3s} {r['top1']:.4f}"
                )
    best = max(rows, key=lambda r: r["top1"])
    print("best:", best)
    s, ok = similarity(aug, "motion", "weighted", True)
    rr = dtw_rerank(aug, s, ok, actions, args.rerank_every)
    print(
        f"product representation, {rr['queries']} queries: clip {rr['clip']:.4f}, "
        f"after a DTW re-rank of the top 10 {rr['dtw_rerank']:.4f}"
    )
    s0, ok0 = similarity(lib, "motion", "weighted", True)
    clean = top1(s0, ok0, actions)
    print(f"same, on the clean (unaugmented) library: top-1 {clean:.4f}")
    if args.write:
        both = []
        for j in aug:
            for mi in (False, True):
                f, v = motion.motion_features(j, mirror=mi)
                if v.sum() >= 2:
                    both.append(motion.clip_pose_descriptor(f, v))
        d = np.stack(both).astype(np.float64)
        stats = {
            "what": "mean and std of pose-motion clip descriptors (and their mirror images)",
            "fitted_on": "augmented Penn Action E2 library (benchmarks/fit_pose_motion.py)",
            "mean": d.mean(0).round(6).tolist(),
            "std": (d.std(0) + 1e-6).round(6).tolist(),
        }
        root = Path(__file__).resolve().parents[1]
        target = root / "resources" / "pose_motion.json"
        if target.is_file():
            # The spread weight is chosen by eval_small_libraries.py: keep it.
            old = json.loads(target.read_text("utf-8"))
            stats.update({k: v for k, v in old.items() if k.startswith("spread_weight")})
        write_text(target, json.dumps(stats) + "\n")
        print("wrote resources/pose_motion.json")
    if args.json:
        out = {"variants": rows, "best": best, "rerank": rr, "clean_top1": clean}
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
