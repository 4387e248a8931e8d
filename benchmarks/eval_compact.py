"""Queries on a library's compact copies against the full features, side by side.

Run: ``python benchmarks/eval_compact.py [--libraries out/eval_real/real,out/eval_real/real2]
[--json out/eval_compact.json]`` on libraries indexed with the default features (e.g.
by ``benchmarks/eval_real.py``). Each library is brought up to date first (``index()``:
that fits its basis, :mod:`avr_gui.core.library.projection`, on its own frames, as any
user's library would). Then every clip queries its library twice in turn, on the
compact copies and on the full features (``use_compact``), and the results are
compared: the same top-1 clip, a same-action top-1 (``eval_real.label``; queries whose
action has no other clip are left out), the largest change of a top-3 match's shown
spans (seconds) and of its "alignable" probability, and the query time of each.

``--e1``: EVAL.md's E1 (warp recovery, seed 0, the default features' appearance
block) with the shown alignment on the full features and on compact ones, the basis
fitted on the 13 original clips' frames (the library a user would query).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from eval_real import label

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e1 import encode_all, load_clip, make_copy, warp_error
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library
from avr_gui.core.library.projection import fit_projection

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def e1_both(data: Path, seed: int = 0) -> dict[str, object]:
    """E1 /shown errors (frames) on full and on compact appearance features."""
    enc = get_encoder("effnet-lite0")
    clips = sorted((data / "real").glob("*.mp4"))
    pairs = []
    for k, clip in enumerate(clips):
        frames = load_clip(clip)
        copy = make_copy(frames, seed * 1000 + k)
        pairs.append((encode_all(enc, frames), encode_all(enc, copy.frames), copy.source))
    proj = fit_projection([p[0] for p in pairs], 0)
    errors: dict[str, list[float]] = {"full": [], "compact": []}
    for orig, warped, truth in pairs:
        t = truth.astype(np.float64)
        errors["full"].append(warp_error(warped, orig, t, True, shown=True))
        errors["compact"].append(
            warp_error(proj.apply(warped), proj.apply(orig), t, True, shown=True)
        )
    return {
        "clips": len(clips),
        "fitted_frames": proj.frames,
        **{f"{w}_median": round(float(np.median(v)), 3) for w, v in errors.items()},
        **{f"{w}_worst": round(float(np.max(v)), 3) for w, v in errors.items()},
        "per_clip": {
            c.name: [round(a, 3), round(b, 3)]
            for c, a, b in zip(clips, errors["full"], errors["compact"], strict=True)
        },
    }


def compare(root: Path) -> dict[str, object]:
    """Both ways for every clip of the library at ``root``."""
    with Library.open(root) as lib:
        lib.index()
        paths = [e.path for e in lib.entries() if e.status == "indexed"]
        actions = [label(p) for p in paths]
        top1_same = same_full = same_compact = scored = 0
        span_d: list[float] = []
        prob_d: list[float] = []
        secs = {"full": 0.0, "compact": 0.0}
        for way in (True, False):  # loads, compiles: not timed
            lib.use_compact = way
            lib.query(paths[0], top=10, candidates=50)
        for q, act in zip(paths, actions, strict=True):
            res = {}
            for way in ("compact", "full"):
                lib.use_compact = way == "compact"
                t0 = time.perf_counter()
                res[way] = lib.query(q, top=10, candidates=50).results
                secs[way] += time.perf_counter() - t0
            lib.use_compact = True
            c, f = res["compact"], res["full"]
            top1_same += c[0].path == f[0].path
            if act != "other" and actions.count(act) > 1:
                scored += 1
                same_full += label(f[0].path) == act
                same_compact += label(c[0].path) == act
            by_path = {m.path: m for m in c}
            for m in f[:3]:
                other = by_path.get(m.path)
                if other is None:
                    continue
                ends = zip(
                    m.match_span_s + m.query_span_s,
                    other.match_span_s + other.query_span_s,
                    strict=True,
                )
                span_d.append(max(abs(a - b) for a, b in ends))
                if m.alignable is not None and other.alignable is not None:
                    prob_d.append(abs(m.alignable - other.alignable))
        basis = (root / "features" / "projection.npz").is_file()
    n = len(paths)
    return {
        "clips": n,
        "compact_basis": basis,
        "top1_same_clip": f"{top1_same}/{n}",
        "same_action_top1_full": f"{same_full}/{scored}",
        "same_action_top1_compact": f"{same_compact}/{scored}",
        "top3_span_change_max_s": round(max(span_d, default=0.0), 2),
        "top3_span_changes_over_0.5s": f"{sum(d > 0.5 for d in span_d)}/{len(span_d)}",
        "top3_alignable_change_max": round(max(prob_d, default=0.0), 3),
        "top3_alignable_change_median": round(float(np.median(prob_d)) if prob_d else 0.0, 4),
        "query_s_full": round(secs["full"] / max(n, 1), 3),
        "query_s_compact": round(secs["compact"] / max(n, 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--libraries", default="out/eval_real/real,out/eval_real/real2")
    ap.add_argument("--e1", action="store_true", help="also E1 on full and compact features")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    out: dict[str, object] = {"load_1min_start": round(os.getloadavg()[0], 2)}
    if args.e1:
        out["e1"] = e1_both(args.data)
        print("e1", json.dumps(out["e1"], indent=1), flush=True)
    for lib in args.libraries.split(","):
        root = Path(lib)
        if not (root / "catalog.sqlite").is_file():
            print(f"{root}: not a library (index it with benchmarks/eval_real.py)", file=sys.stderr)
            return 2
        out[root.name] = compare(root)
        print(root.name, json.dumps(out[root.name], indent=1), flush=True)
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
