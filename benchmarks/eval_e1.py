"""EVAL.md E1 (warp recovery on real clips) for several encoders.

Run: ``python benchmarks/eval_e1.py [--data ../shared/data] [--json PATH]
[--configs thumb16,effnet-lite0@160,effnet-lite0@224]``.
Prints median and worst error (frames at 10 fps) over the real clips, with and without
contextualization, and the per-clip errors. Seeded: the figures repeat.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e1 import run_e1
from avr_gui.core.features import get_encoder

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def encoder_from(spec: str):
    """``name`` or ``name@size`` -> encoder."""
    name, _, size = spec.partition("@")
    return get_encoder(name, **({"size": int(size)} if size else {}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--configs", default="thumb16,effnet-lite0@160,effnet-lite0@224")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", type=float, default=10.0, help="sampling rate (protocol: 10)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    clips = sorted((args.data / "real").glob("*.mp4"))
    if not clips:
        print(f"no clips in {args.data / 'real'}", file=sys.stderr)
        return 2
    encoders = {c: encoder_from(c) for c in args.configs.split(",")}
    t0 = time.perf_counter()
    result = run_e1(
        clips,
        encoders,
        seed=args.seed,
        fps=args.fps,
        progress=lambda d, t, m: print(f"[{d}/{t}] {m}", file=sys.stderr, flush=True),
    )
    summary = result.summary()
    for cfg, v in summary.items():
        print(
            f"{cfg:28s} median {v['median_error_frames']:.3f}  worst {v['worst_error_frames']:.3f}"
        )
    if args.json:
        payload = {
            "summary": summary,
            "errors": result.errors,
            "seconds": time.perf_counter() - t0,
        }
        write_text(args.json, json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
