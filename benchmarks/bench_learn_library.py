"""Time ``avr learn`` end to end on a 100-clip library (issue 18: fine-tuning <= 5 min on CPU).

Run (from the repository root)::

    python benchmarks/bench_learn_library.py [--data ../shared/data] [--clips 100]
        [--steps N] [--work out/bench_learn] [--device cpu]

The library: ``--clips`` Penn Action sequences of E2's *library* part (never its
queries), about as many of each of the 15 actions, at 10 fps, made into an ``auto``
library with stored pose tracks (:mod:`avr_gui.core.demo.pose_library`; the clip's
folder is its action, so ``avr learn`` labels by folder). Then ``avr learn --index``
runs in a subprocess exactly as a user would type it, and its wall time, the load
average before and after, and the command's JSON are printed.

What the model is worth to that library's searches: ``--queries`` E2 *query* sequences
of the same actions (never trained on) are searched among the library's clips through
the product's performer search (:meth:`~avr_gui.core.library.Library.performer_index`
and :func:`~avr_gui.core.library.pose_search.describe_track`, mirror-invariant), with
the default pose descriptor before ``avr learn`` and the learned one after; reported:
top-1 same action (recall@1) and recall@5.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from penn_library import DEFAULT_DATA, PENN, e2_split, load_library, load_penn

from avr_gui.core.demo.pose_library import add_joint_clips, joints_clip
from avr_gui.core.library import Library
from avr_gui.core.library.learned import load_learned
from avr_gui.core.library.pose_search import describe_track


def build(index: Path, data: Path, clips: int) -> dict[str, int]:
    """The ``clips``-clip library of Penn Action sequences (labels: folders = actions)."""
    seqs, actions = load_library(data)
    names = sorted(set(actions.tolist()))
    per = {a: clips // len(names) + (k < clips % len(names)) for k, a in enumerate(names)}
    chosen = []
    for a in names:
        idx = np.flatnonzero(actions == a)[: per[a]]
        chosen += [(f"{a}/penn {i:04d}", seqs[i]) for i in idx]
    with Library.open(index) as lib:
        add_joint_clips(lib, chosen, frame_size=(480, 360))
    return {a: per[a] for a in names}


def query_set(data: Path, actions: list[str], per_action: int) -> list[tuple[str, object]]:
    """E2 query sequences (never in the library), ``per_action`` of each action, as tracks."""
    seqs, acts = load_penn(data)
    _, qs = e2_split(len(seqs))
    out = []
    for a in actions:
        for i in [q for q in qs if acts[q] == a][:per_action]:
            out.append((a, joints_clip(f"query {i}", seqs[i], frame_size=(480, 360))[1]))
    return out


def search_figures(index: Path, queries: list[tuple[str, object]]) -> dict[str, object]:
    """Recall@1/5 of the queries among the library's performer clips, as queries do it."""
    with Library.open(index, readonly=True) as lib:
        info = lib.learned_model()
        loaded = load_learned(index)  # the model the library's queries use
        model = loaded[1] if loaded is not None else None
        idx = lib.performer_index()
        hits1 = hits5 = 0
        for action, track in queries:
            found = idx.search(describe_track(track, model=model), 5)  # type: ignore[arg-type]
            labels = [p.split("/")[0] for p, _ in found]
            hits1 += labels[:1] == [action]
            hits5 += action in labels
    n = len(queries)
    return {
        "compared_by": info.describe() if info else "default pose",
        "recall@1": round(hits1 / n, 3),
        "recall@5": round(hits5 / n, 3),
        "queries": n,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--steps", type=int, default=None, help="default: avr learn's default")
    ap.add_argument("--work", type=Path, default=Path("out/bench_learn"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--queries", type=int, default=5, help="E2 queries per action")
    args = ap.parse_args(argv)
    if not (args.data / PENN).exists():
        print(f"{args.data / PENN} missing", file=sys.stderr)
        return 2
    index = args.work / "index"
    if index.exists():
        shutil.rmtree(index)
    args.work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    per = build(index, args.data, args.clips)
    built = time.perf_counter() - t
    queries = query_set(args.data, sorted(per), args.queries)
    before = search_figures(index, queries)
    cmd = [sys.executable, "-m", "avr_gui.cli", "learn", "--index", str(index), "--json"]
    cmd += ["--device", args.device]
    if args.steps is not None:
        cmd += ["--steps", str(args.steps)]
    load_before = os.getloadavg()
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    load_after = os.getloadavg()
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    out = json.loads(done.stdout)
    report = {
        "clips": sum(per.values()),
        "labels": len(per),
        "library_built_s": round(built, 1),
        "command": " ".join(cmd[1:]),
        "avr_learn_wall_s": round(wall, 1),
        "training_s": out["seconds"],
        "steps": out["steps"],
        "device": out["device"],
        "cpu_count": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "final_loss": out["final_loss"],
        "search_default": before,
        "search_learned": search_figures(index, queries),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
