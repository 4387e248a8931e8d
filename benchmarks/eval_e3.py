"""EVAL.md E3 (cross-person search on the real clips) for one encoder.

Run: ``python benchmarks/eval_e3.py [--data ../shared/data] [--backend effnet-lite0]
[--size 224] [--standardize] [--cache DIR] [--json PATH]``. ``--cache`` keeps the
per-clip features (``.npz``) so later runs with the same backend skip decoding.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e3 import run_e3
from avr_gui.core.features import get_encoder
from avr_gui.core.features.sequence import encode_video, load_sequence, save_sequence

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--backend", default="effnet-lite0")
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--standardize", action="store_true")
    ap.add_argument("--no-context", action="store_true")
    ap.add_argument("--cache", type=Path, default=None, help="feature cache folder")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    clips = sorted((args.data / "real").glob("*.mp4"))
    if not clips:
        print(f"no clips in {args.data / 'real'}", file=sys.stderr)
        return 2
    enc = get_encoder(args.backend, **({"size": args.size} if args.size else {}))
    feats = None
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
        feats = []
        for c in clips:
            f = args.cache / f"{enc.name}-{args.size or 'default'}-{c.stem}.npz"
            if not f.exists():
                save_sequence(f, encode_video(c, enc))
            feats.append(load_sequence(f).features)
    r = run_e3(
        clips, enc, context=not args.no_context, standardize=args.standardize, features=feats
    )
    for score, v in r["summary"].items():
        print(
            f"{score:6s} top-1 same action {v['top1_same_action']}/{r['queries']}  "
            f"top-3 {v['top3_same_action']}/{r['queries']}  AUROC {v['auroc']:.3f}  "
            f"FPE(top-1) {v['fpe_top1']:.2f}"
        )
    for q, v in r["pushup_draq_separation"].items():
        print(
            f"{q}: {v['pushups_above_all_others']} of {v['other_pushups']} other push-ups "
            "out-rank every non-push-up by DRAQ"
        )
    print(
        f"mean DRAQ same action {r['draq_same_action_mean']:.3f} vs other "
        f"{r['draq_other_mean']:.3f}"
    )
    if args.json:
        write_text(args.json, json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
