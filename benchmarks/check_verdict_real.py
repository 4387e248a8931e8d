"""The pose verdict on the real clips: every (performer query, performer clip) pair.

Run: ``python benchmarks/check_verdict_real.py [--libraries out/eval_real/real,out/eval_real/real2]
[--json PATH]`` on libraries ``eval_real.py`` built. A check, never a fit: for every
performer clip as the query and every other performer clip of its library, the
product's pose similarity (``Library.performer_index``, the query described as
``Library.query`` describes it) and its "alignable" probability
(``verdict.alignable_probability``). Reported per library: the Brier score against
"same action" (``eval_real.label``; "other" clips count as another action), other-action
pairs read "alignable" (p >= 0.5), and same-action pairs read "unlikely" (p < 0.2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from eval_real import label

from avr_gui.core.align.verdict import ALIGNABLE, UNLIKELY, alignable_probability
from avr_gui.core.atomic import write_text
from avr_gui.core.library import Library
from avr_gui.core.library.pose_search import describe_track


def check(root: Path) -> dict[str, object]:
    """Pairs of one library; see the module docstring."""
    probs, same = [], []
    with Library.open(root, readonly=True) as lib:
        _, model = lib._pose_model()
        index = lib.performer_index()
        for q in index.paths:
            track = lib.pose_track(q)
            assert track is not None
            for path, sim in index.search(describe_track(track, None, model), len(index.paths), q):
                probs.append(alignable_probability("pose", sim))
                same.append(label(path) == label(q) and label(q) != "other")
    p, y = np.array(probs, np.float64), np.array(same, bool)
    return {
        "pairs": len(p),
        "same_action_pairs": int(y.sum()),
        "brier": round(float(np.mean((p - y) ** 2)), 3),
        "other_action_read_alignable": f"{int((p[~y] >= ALIGNABLE).sum())}/{int((~y).sum())}",
        "same_action_read_unlikely": f"{int((p[y] < UNLIKELY).sum())}/{int(y.sum())}",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--libraries", default="out/eval_real/real,out/eval_real/real2")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    out = {}
    for lib in args.libraries.split(","):
        root = Path(lib)
        if not (root / "catalog.sqlite").is_file():
            print(f"{root}: not a library (run benchmarks/eval_real.py first)", file=sys.stderr)
            return 2
        out[root.name] = check(root)
        print(root.name, out[root.name], flush=True)
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
