"""Indexing throughput of the default (``auto``) features against plain decoding.

Run: ``python benchmarks/bench_index_auto.py [--clip ../shared/data/real/pushup2.mp4]
[--repeats 2] [--json out/bench_index_auto.json]``.

Side by side in one run, interleaved, best of ``--repeats``: plain PyAV decoding of the
clip sampled at 10 fps at full size (``sample_frames``), and indexing the same clip end
to end through the library's indexer (a fresh index folder each time) with these
encoders:

- ``effnet-lite0`` (appearance only) on torch (``effnet_torch``, the runtime before
  issue 16) and on ONNX Runtime (``effnet``, today's CPU default);
- ``auto`` (BlazePose landmarks + EfficientNet-Lite0 in one decoding pass) with the
  appearance network on torch, run after the pose model (``auto_torch``, the default
  before issue 16); on ONNX Runtime after the pose model (``auto_serial``); and on ONNX
  Runtime beside the pose model (``auto``, today's default);
- variants of ``auto`` on the pose side (issue 16): ``auto_fullgraph`` runs the whole
  BlazePose landmark graph (segmentation mask and heatmap included, the default before
  the graph was cut down to the landmarks), ``auto_t1`` / ``auto_fullgraph_t1`` run the
  pose models on one interpreter thread instead of the default (the cores, at most 4).

``--configs`` selects which run (default: all), e.g. ``--configs
auto,auto_fullgraph,auto_t1,auto_fullgraph_t1``.

Reported: sampled frames per second of each, ``index_over_decode_<name>`` ratios (1.0 =
as fast as decoding; ``index_over_decode_auto`` is the issue-16 figure), the speed-up of
each new path over its torch counterpart, the 1-minute load average at the start and
end, and CPU seconds of the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.features import get_encoder
from avr_gui.core.features.base import Encoder
from avr_gui.core.features.encoders import RUNTIME_ENV
from avr_gui.core.library import Library
from avr_gui.core.video.decode import sample_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[1].parent / "shared/data/real/pushup2.mp4"


def build(backend: str, runtime: str, concurrent: bool = True, **options: object) -> Encoder:
    """An encoder of the registry with its appearance network on ``runtime``."""
    before = os.environ.get(RUNTIME_ENV)
    os.environ[RUNTIME_ENV] = runtime  # make_auto has no runtime option: it reads this
    try:
        enc = get_encoder(backend, **options)
    finally:
        if before is None:
            del os.environ[RUNTIME_ENV]
        else:
            os.environ[RUNTIME_ENV] = before
    if hasattr(enc, "concurrent"):
        enc.concurrent = concurrent  # type: ignore[attr-defined]
    return enc


def build_auto(full_graph: bool = False, threads: int | None = None) -> Encoder:
    """``auto`` with the pose side varied: whole landmark graph or not, interpreter threads."""
    from avr_gui.core.features.pose.blazepose import BlazePose

    enc = build("auto", "auto", num_threads=threads)
    if full_graph:
        # Same model files, so the same encoder version: only the speed differs.
        enc.pose.estimator = BlazePose(full_graph=True, num_threads=threads)  # type: ignore[attr-defined]
    return enc


#: name -> how to build its encoder.
CONFIGS: dict[str, Callable[[], Encoder]] = {
    "effnet_torch": lambda: build("effnet-lite0", "torch"),
    "effnet": lambda: build("effnet-lite0", "auto"),
    "auto_torch": lambda: build("auto", "torch", concurrent=False),
    "auto_serial": lambda: build("auto", "auto", concurrent=False),
    "auto": lambda: build("auto", "auto"),
    "auto_fullgraph": lambda: build_auto(full_graph=True),
    "auto_t1": lambda: build_auto(threads=1),
    "auto_fullgraph_t1": lambda: build_auto(full_graph=True, threads=1),
}


def decode_s(clip: Path) -> tuple[float, int]:
    """Seconds to decode ``clip`` at 10 fps, full size, and the number of frames."""
    t0 = time.perf_counter()
    n = sum(1 for _ in sample_frames(clip, 10.0))
    return time.perf_counter() - t0, n


def index_s(clip: Path, enc: Encoder) -> float:
    """Seconds to index ``clip`` alone into a fresh library with ``enc``."""
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
        raise SystemExit(f"{clip.name} did not index with {enc.name}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="subset of " + ",".join(CONFIGS))
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if not args.clip.exists():
        print(f"{args.clip} missing", file=sys.stderr)
        return 2
    names = [n for n in args.configs.split(",") if n]
    unknown = set(names) - set(CONFIGS)
    if unknown:
        print(f"unknown configs: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    load_start = os.getloadavg()[0]
    cpu0 = time.process_time()
    encoders = {n: CONFIGS[n]() for n in names}  # built (and ONNX graphs cached) up front
    best = {"decode": float("inf"), **{n: float("inf") for n in names}}
    frames = 0
    decode_s(args.clip)  # file cache and codec warm
    for _ in range(args.repeats):
        s, frames = decode_s(args.clip)
        best["decode"] = min(best["decode"], s)
        for n, enc in encoders.items():
            best[n] = min(best[n], index_s(args.clip, enc))
    out: dict[str, object] = {
        "clip": args.clip.name,
        "sampled_frames": frames,
        "cpu_count": os.cpu_count(),
        "load_1min_start": load_start,
        "load_1min_end": os.getloadavg()[0],
        "cpu_s_total": round(time.process_time() - cpu0, 1),
        **{f"{k}_frames_per_s": round(frames / v, 1) for k, v in best.items()},
        **{f"index_over_decode_{n}": round(best["decode"] / best[n], 3) for n in names},
    }
    pairs = (
        ("effnet", "effnet_torch"),
        ("auto", "auto_torch"),
        ("auto", "auto_serial"),
        ("auto", "auto_fullgraph"),
        ("auto_t1", "auto_fullgraph_t1"),
    )
    for new, old in pairs:
        if new in best and old in best:
            out[f"{new}_speedup_over_{old}"] = round(best[old] / best[new], 2)
    for k, v in out.items():
        print(f"{k:34s} {v}")
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
