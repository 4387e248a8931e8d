"""Frames per second of decoding, encoding and the two pipelined, per backend.

Run: ``python benchmarks/bench_features.py [--video PATH] [--json PATH]``. Without
``--video`` a 720p clip is generated. Every sampled frame is decoded (``--fps 0`` keeps
all of them); encode-only runs on frames decoded beforehand; the pipeline is
``encode_video`` (decoder thread ahead of the encoder). The goal: pipeline >= 0.8 x
min(decode-only, encode-only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.features import encode_video, get_encoder
from avr_gui.core.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.video.decode import sample_frames


def _clip(tmp: Path) -> Path:
    path = tmp / "bench_720p.mp4"
    frames = render_frames(0, speed_warp(300, (1.0, 2.0)), (1280, 720), ClipStyle(shake=0.003))
    write_video(path, frames, 30.0)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", help="clip to decode (default: a generated 720p clip)")
    ap.add_argument("--fps", type=float, default=10.0, help="sampling rate (default 10)")
    ap.add_argument(
        "--backends", default="thumb16,effnet-lite0:112,effnet-lite0:160,effnet-lite0:224"
    )
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    video = Path(args.video) if args.video else _clip(tmp)

    def decode(side: int | None) -> list[np.ndarray]:
        return [f.image for f in sample_frames(video, args.fps, size=side)]

    decode(None)  # warm the file cache
    out: dict[str, object] = {"video": str(video), "cpu_count": os.cpu_count(), "backends": {}}
    for spec in args.backends.split(","):
        name, _, size = spec.partition(":")
        enc = get_encoder(name, **({"size": int(size)} if size else {}))
        # Decode-only exactly as the pipeline decodes for this encoder (same frame size).
        t0 = time.perf_counter()
        frames = decode(enc.decode_side)
        decode_fps = len(frames) / (time.perf_counter() - t0)
        enc.encode(frames[: enc.batch_size])  # warm-up
        t0 = time.perf_counter()
        for a in range(0, len(frames), enc.batch_size):
            enc.encode(frames[a : a + enc.batch_size])
        encode_fps = len(frames) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        seq = encode_video(video, enc, fps=args.fps)
        pipe_fps = seq.features.shape[0] / (time.perf_counter() - t0)
        ratio = pipe_fps / min(decode_fps, encode_fps)
        out["backends"][spec] = {  # type: ignore[index]
            "device": enc.device,
            "frames": len(frames),
            "decode_side": enc.decode_side,
            "decode_only_fps": decode_fps,
            "encode_only_fps": encode_fps,
            "pipeline_fps": pipe_fps,
            "pipeline_over_min": ratio,
        }
        print(
            f"{spec:20s} {enc.device:5s} decode {decode_fps:7.1f}  encode {encode_fps:7.1f}  "
            f"pipeline {pipe_fps:7.1f} "
            f"frames/s  pipeline / min(decode, encode) = {ratio:.2f}"
        )
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
