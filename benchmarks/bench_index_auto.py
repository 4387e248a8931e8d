"""Indexing throughput of the default (``auto``) features against plain decoding.

Run: ``python benchmarks/bench_index_auto.py [--clip ../shared/data/real/pushup2.mp4]
[--repeats 2] [--json out/bench_index_auto.json]``.

Side by side in one run, interleaved, best of ``--repeats``: plain PyAV decoding of the
clip sampled at 10 fps at full size (``sample_frames``), and indexing the same clip end
to end through the library's indexer (a fresh index folder each time) with
``effnet-lite0`` (appearance only, the previous default) and ``auto`` (BlazePose
landmarks + EfficientNet-Lite0 in one decoding pass). Reported: sampled frames per
second of each and ``index_over_decode`` ratios (1.0 = as fast as decoding).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library
from avr_gui.core.video.decode import sample_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[1].parent / "shared/data/real/pushup2.mp4"


def decode_s(clip: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = sum(1 for _ in sample_frames(clip, 10.0))
    return time.perf_counter() - t0, n


def index_s(clip: Path, backend: str) -> float:
    enc = get_encoder(backend)
    with tempfile.TemporaryDirectory(prefix="avr-bench-") as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        shutil.copy(clip, folder / clip.name)
        t0 = time.perf_counter()
        with Library.open(Path(tmp) / "index", encoder=enc) as lib:
            lib.add_folder(folder)
            summary = lib.index()
        elapsed = time.perf_counter() - t0
    if summary.indexed != 1:
        raise SystemExit(f"{clip.name} did not index with {backend}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if not args.clip.exists():
        print(f"{args.clip} missing", file=sys.stderr)
        return 2
    best = {"decode": float("inf"), "effnet-lite0": float("inf"), "auto": float("inf")}
    frames = 0
    for _ in range(args.repeats):
        s, frames = decode_s(args.clip)
        best["decode"] = min(best["decode"], s)
        for b in ("effnet-lite0", "auto"):
            best[b] = min(best[b], index_s(args.clip, b))
    out = {
        "clip": args.clip.name,
        "sampled_frames": frames,
        "load_1min": os.getloadavg()[0],
        **{f"{k}_frames_per_s": round(frames / v, 1) for k, v in best.items()},
        "index_over_decode_effnet": round(best["decode"] / best["effnet-lite0"], 3),
        "index_over_decode_auto": round(best["decode"] / best["auto"], 3),
        "auto_over_effnet_time": round(best["auto"] / best["effnet-lite0"], 2),
    }
    for k, v in out.items():
        print(f"{k:28s} {v}")
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
