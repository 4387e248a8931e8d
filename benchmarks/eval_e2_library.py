"""E2 (EVAL.md) through the library API: Penn Action pose sequences as library clips.

The library sequences are added with ``Library.add_features`` (stored as float16 like
any clip), each query runs ``Library.search`` (clip retrieval: recall@1/5/10) and
``Library.query`` with K = 10 candidates (re-ranked top 1 by DRAQ and by DTW cost /
(n + m)). Reference figures (EVAL.md): recall@1 0.913, @5 0.952, @10 0.968; top-1 after
DRAQ 0.917, after DTW cost 0.952.

Usage: ``python benchmarks/eval_e2_library.py [--data DIR] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from avr_gui.core.eval.e2 import load_penn, split_every_fifth
from avr_gui.core.features import FeatureSequence
from avr_gui.core.library import Library

PENN_FPS = 30.0


def _seq(f: np.ndarray, name: str) -> FeatureSequence:
    t = np.arange(len(f)) / PENN_FPS
    return FeatureSequence(f, t, np.arange(len(f)), name, "penn-pose26", "eval-e2-v1")


def run(data: Path, index_dir: Path) -> dict:
    library, queries = split_every_fifth(
        load_penn(data / "penn_action" / "penn_action_joints_train.npz")
    )
    names = [f"penn/{k:04d}" for k in range(len(library.sequences))]
    action = dict(zip(names, library.actions, strict=True))
    t0 = time.perf_counter()
    with Library.open(index_dir) as lib:
        lib.add_features((n, _seq(s, n)) for n, s in zip(names, library.sequences, strict=True))
        t_add = time.perf_counter() - t0
        hits = np.zeros((len(queries.sequences), 10), bool)
        top1 = {"draq": 0, "dtw": 0, "product": 0}
        t0 = time.perf_counter()
        for qi, (seq, act) in enumerate(zip(queries.sequences, queries.actions, strict=True)):
            q = _seq(seq, f"query/{qi}")
            found = lib.search(q, 10)
            hits[qi] = [action[p] == act for p, _ in found]
            res = lib.query(q, top=10, candidates=10).results
            best_draq = min(res, key=lambda m: m.draq)
            top1["draq"] += int(action[best_draq.path] == act)
            top1["product"] += int(action[res[0].path] == act)
            best_dtw = min(res, key=lambda m: m.normalized_cost)
            top1["dtw"] += int(action[best_dtw.path] == act)
        t_query = time.perf_counter() - t0
    nq = len(queries.sequences)
    return {
        "queries": nq,
        "library": len(names),
        "recall@1": float(hits[:, :1].any(axis=1).mean()),
        "recall@5": float(hits[:, :5].any(axis=1).mean()),
        "recall@10": float(hits.any(axis=1).mean()),
        "top1_draq": top1["draq"] / nq,
        "top1_product_score": top1["product"] / nq,
        "top1_dtw": top1["dtw"] / nq,
        "add_features_s": round(t_add, 2),
        "query_ms_mean": round(1000 * t_query / nq, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="E2 through the library API")
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="e2 library ") as tmp:
        out = run(args.data, Path(tmp) / "index")
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
