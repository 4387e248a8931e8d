"""`avr eval e2` for the pose vectors, the shipped learned model and its untrained control.

Run: ``python benchmarks/eval_e2_control.py [--data ../shared/data] [--json PATH]``
(about a minute on 2 cores).

The learned-features issue asks that on E2 "the learned block beats raw pose on
recall@1, top-1 after re-ranking, AUROC of the shipped score, and FPE of the top-1; the
untrained control does not". ``avr eval e2 --learned none|shipped`` gives the first two
columns; this script adds the third through the same code path
(:func:`~avr_gui.core.eval.e2_learned.learned_pose_set`, then
:func:`~avr_gui.core.eval.e2.run_e2`): the shipped model's architecture with its
initial weights (the training seed, nothing trained).

FPE is measured in each representation's own frames: EVAL.md's pose vectors run at
Penn Action's 30 fps, the learned models at the library's 10 fps (every 3rd frame), so
``fpe_best_30fps`` converts the learned figures to 30 fps frames (× 3) to compare.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e2 import load_penn, run_e2, split_every_fifth
from avr_gui.core.eval.e2_learned import STRIDE, learned_pose_set
from avr_gui.core.learn import shipped_pose_model
from avr_gui.core.learn.model import build_encoder
from avr_gui.core.learn.store import LearnedModel

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KEYS = ("recall@1", "top1_best", "auroc_best")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    path = args.data / "penn_action" / "penn_action_joints_train.npz"
    if not path.exists():
        print(f"{path} missing", file=sys.stderr)
        return 2
    model = shipped_pose_model()
    if model is None:
        print("the shipped pose model is not installed", file=sys.stderr)
        return 2
    seed = int(model.meta.get("train_config", {}).get("seed", 0))
    untrained = LearnedModel(build_encoder(model.config, seed).eval())
    sets = {
        "none": lambda: load_penn(path),
        "shipped": lambda: learned_pose_set(path, model),
        "untrained": lambda: learned_pose_set(path, untrained),
    }
    out: dict = {"seed": seed}
    for name, load in sets.items():
        t0 = time.perf_counter()
        library, queries = split_every_fifth(load())
        r = run_e2(library, queries)
        row = {k: float(r[k]) for k in KEYS}
        row["best"] = r["best"]
        row["fpe_best"] = float(r[f"fpe_{r['best']}"])
        row["fpe_best_30fps"] = row["fpe_best"] * (1 if name == "none" else STRIDE)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        out[name] = row
        print(name, json.dumps(row), flush=True)
    base = out["none"]
    for name in ("shipped", "untrained"):
        r = out[name]
        out[f"{name}_beats_raw_pose"] = {
            "recall@1": r["recall@1"] > base["recall@1"],
            "top1_best": r["top1_best"] > base["top1_best"],
            "auroc_best": r["auroc_best"] > base["auroc_best"],
            "fpe_best": r["fpe_best_30fps"] < base["fpe_best_30fps"],
        }
    print(json.dumps({k: v for k, v in out.items() if k.endswith("raw_pose")}, indent=1))
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
