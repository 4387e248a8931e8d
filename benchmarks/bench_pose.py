"""Pose frames/s on CPU: model inference alone, decoding alone, and the indexing pipeline.

Run: ``python benchmarks/bench_pose.py [--video PATH] [--models DIR] [--movenet FILE]
[--threads N] [--json PATH]``. Default video: ``../shared/data/real/pushup2.mp4``
(1280x720, 20 s; sampled at 10 fps). Per backend it reports detector and landmark
inferences/s, encode-only frames/s on frames decoded beforehand (tracking, so the
detector runs rarely), decode-only frames/s at the encoder's decode size, and the
pipeline (``encode_video``: decoder thread ahead of the encoder). Goal: pipeline >=
0.8 x min(decode-only, encode-only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.features import encode_video, get_encoder
from avr_gui.core.video.decode import sample_frames

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _rate(n: int, seconds: float) -> float:
    return n / max(seconds, 1e-9)


def _best_of(k: int, fn) -> float:
    return min(_timed(fn) for _ in range(k))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _bench_backend(name: str, kw: dict, args: argparse.Namespace) -> dict:
    enc = get_encoder(name, **kw, num_threads=args.threads)
    est = enc.estimator  # type: ignore[attr-defined]

    def decode() -> list[np.ndarray]:
        return [f.image for f in sample_frames(args.video, args.fps, size=enc.decode_side)]

    frames = decode()  # also warms the file cache
    decode_s = _best_of(args.repeats, decode)
    row: dict = {"frames": len(frames), "decode_side": enc.decode_side}
    if name == "pose-blazepose":
        f0 = frames[len(frames) // 2]
        roi = est._main_person(est.detect(f0))  # timing the two models on their own
        n = 50
        row["detector_per_s"] = _rate(
            n, _best_of(args.repeats, lambda: [est.detect(f0) for _ in range(n)])
        )
        row["landmark_per_s"] = _rate(
            n, _best_of(args.repeats, lambda: [est.landmarks_in(f0, roi) for _ in range(n)])
        )

    def encode_all() -> None:
        enc.reset()  # type: ignore[attr-defined]
        for a in range(0, len(frames), enc.batch_size):
            enc.encode(frames[a : a + enc.batch_size])

    runs0 = getattr(est, "detector_runs", 0)
    encode_all()  # warm-up; counts how often tracking needed the detector
    runs = getattr(est, "detector_runs", 0) - runs0
    encode_s = _best_of(args.repeats, encode_all)
    pipe_s = _best_of(args.repeats, lambda: encode_video(args.video, enc, fps=args.fps))
    row.update(
        decode_only_fps=_rate(len(frames), decode_s),
        encode_only_fps=_rate(len(frames), encode_s),
        pipeline_fps=_rate(len(frames), pipe_s),
        detector_runs_per_clip=runs,
        threads=(est._detector if name == "pose-blazepose" else est._model).threads,
    )
    row["pipeline_over_min"] = row["pipeline_fps"] / min(
        row["decode_only_fps"], row["encode_only_fps"]
    )
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=SHARED / "data" / "real" / "pushup2.mp4")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--models", default=None, help="BlazePose model folder (default: user's)")
    ap.add_argument(
        "--movenet", type=Path, default=SHARED / "models" / "movenet_lightning_int8_4.tflite"
    )
    ap.add_argument("--threads", type=int, default=None, help="interpreter threads")
    ap.add_argument("--repeats", type=int, default=2, help="best of this many timings")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    if not args.video.exists():
        print(f"{args.video}: missing", file=sys.stderr)
        return 2
    specs = [("pose-blazepose", {"weights": args.models})]
    if args.movenet.exists():
        specs.append(("pose-movenet", {"weights": args.movenet}))
    out: dict[str, object] = {
        "video": str(args.video),
        "cpu_count": os.cpu_count(),
        "threads": args.threads,
        "backends": {},
    }
    for name, kw in specs:
        row = _bench_backend(name, kw, args)
        out["backends"][name] = row  # type: ignore[index]
        extra = ""
        if "detector_per_s" in row:
            extra = (
                f"  (detector {row['detector_per_s']:.0f}/s, landmarks "
                f"{row['landmark_per_s']:.0f}/s)"
            )
        print(
            f"{name:15s} {row['frames']} frames  decode {row['decode_only_fps']:6.1f}  "
            f"encode {row['encode_only_fps']:6.1f}  pipeline {row['pipeline_fps']:6.1f} frames/s  "
            f"pipeline / min = {row['pipeline_over_min']:.2f}{extra}"
        )
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
