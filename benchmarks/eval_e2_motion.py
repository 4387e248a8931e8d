"""E2 with the product's pose representation (pose-motion descriptors, shipped statistics).

Run: ``python benchmarks/eval_e2_motion.py [--data ../shared/data]
[--json out/eval_e2_motion.json]`` (under a minute).

EVAL.md's E2 split: every 5th Penn Action training sequence queries, the others are the
library (the product's statistics were fitted on that library, augmented; the queries
never). Sequences at 10 fps as the product samples. Reported: recall@1/5/10 of clip
retrieval by mirror-invariant pose similarity (what an ``auto`` library ranks
performer clips by), top-1 after a DTW re-rank of the top 10 on the pose-motion frames
(the re-rank the product does not do), AUROC of the pose similarity for same vs other
action among each query's top 10, and FPE of the top-1 (cycle consistency on the
pose-motion frames).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from avr_gui.core.align import AlignmentOptions, align_many
from avr_gui.core.atomic import write_text
from avr_gui.core.eval.metrics import auroc, cycle_fpe
from avr_gui.core.features.pose import motion

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _unit_rows(f: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = f[v] if v.any() else f[:1]
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    path = args.data / "penn_action" / "penn_action_joints_train.npz"
    if not path.exists():
        print(f"{path} missing", file=sys.stderr)
        return 2
    with np.load(path, allow_pickle=False) as d:
        off = d["offsets"]
        joints = np.stack([d["x"], d["y"], d["visibility"].astype(np.float32)], -1)
        actions = np.asarray(d["action"])
    seqs = [joints[a:b:3].astype(np.float64) for a, b in itertools.pairwise(off)]
    feats = [motion.motion_features(j) for j in seqs]
    mirr = [motion.motion_features(j, mirror=True) for j in seqs]
    desc = np.stack([motion.clip_pose_descriptor(*f) for f in feats])
    mdesc = np.stack([motion.clip_pose_descriptor(*f) for f in mirr])
    std = motion.shipped_standardizer()
    assert std is not None, "resources/pose_motion.json is missing"
    idx = np.arange(len(seqs))
    lib, qs = idx[idx % 5 != 0], idx[idx % 5 == 0]
    lib_z = std.transform(desc[lib])
    hits = {1: 0, 5: 0, 10: 0}
    rerank_hits = 0
    scores, same = [], []
    fpe_clip, fpe_dtw = [], []
    opts = AlignmentOptions(context=True)
    for q in qs:
        s = motion.mirror_invariant_similarity(
            std.transform(desc[q]), std.transform(mdesc[q]), lib_z
        )
        order = np.argsort(-s)[:10]
        ok = actions[lib[order]] == actions[q]
        for k in hits:
            hits[k] += bool(ok[:k].any())
        scores.extend(s[order].tolist())
        same.extend(ok.tolist())
        qf = _unit_rows(*feats[q])
        cands = [_unit_rows(*feats[lib[i]]) for i in order]
        a = align_many(qf, cands, opts)
        b = align_many(_unit_rows(*mirr[q]), cands, opts)
        cost = np.minimum([r.normalized_cost for r in a], [r.normalized_cost for r in b])
        best = int(np.argmin(cost))
        rerank_hits += bool(ok[best])
        fpe_clip.append(cycle_fpe(a[0].path))
        fpe_dtw.append(cycle_fpe(a[best].path))
    n = len(qs)
    out = {
        "queries": int(n),
        "library": len(lib),
        "recall@1": hits[1] / n,
        "recall@5": hits[5] / n,
        "recall@10": hits[10] / n,
        "top1_after_dtw_rerank": rerank_hits / n,
        "auroc_pose_similarity_top10": auroc(
            np.array(scores), np.array(same), lower_is_positive=False
        ),
        "fpe_top1_clip_order": float(np.mean(fpe_clip)),
        "fpe_top1_dtw_order": float(np.mean(fpe_dtw)),
    }
    for k, v in out.items():
        print(f"{k:30s} {v:.3f}" if isinstance(v, float) else f"{k:30s} {v}")
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
