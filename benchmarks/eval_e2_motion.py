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
import json
import sys
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, PENN, e2_figures, load_penn

from avr_gui.core.atomic import write_text
from avr_gui.core.features.pose import motion


def _unit_rows(f: np.ndarray, v: np.ndarray) -> np.ndarray:
    x = f[v] if v.any() else f[:1]
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    path = args.data / PENN
    if not path.exists():
        print(f"{path} missing", file=sys.stderr)
        return 2
    seqs, actions = load_penn(args.data)
    feats = [motion.motion_features(j) for j in seqs]
    mirr = [motion.motion_features(j, mirror=True) for j in seqs]
    std = motion.shipped_standardizer()
    assert std is not None, "resources/pose_motion.json is missing"
    desc = std.transform(np.stack([motion.clip_pose_descriptor(*f) for f in feats]))
    mdesc = std.transform(np.stack([motion.clip_pose_descriptor(*f) for f in mirr]))
    frames = [_unit_rows(*f) for f in feats]
    mframes = [_unit_rows(*f) for f in mirr]
    out = e2_figures(frames, mframes, desc, mdesc, actions)
    for k, v in out.items():
        print(f"{k:30s} {v:.3f}" if isinstance(v, float) else f"{k:30s} {v}")
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
