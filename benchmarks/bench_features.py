"""Frames per second of decoding, encoding and the two pipelined, per backend.

Run: ``python benchmarks/bench_features.py [--video PATH] [--json PATH]``. Without
``--video`` a 720p clip is generated. Every sampled frame is decoded (``--fps 0`` keeps
all of them); encode-only runs on frames decoded beforehand; the pipeline is
``encode_video`` (decoder thread ahead of the encoder). The goal: pipeline >= 0.8 x
min(decode-only, encode-only).

``index_over_decode`` (issue 16; goal >= 0.4): the default features (``auto`` where the
pose models are installed) of a real 720p clip (``--index-clip``, default
``pushup2.mp4``), sampled at 10 fps and indexed end to end through the library's
indexer, against plain PyAV decoding of the same clip at full size: decoding time over
indexing time, best of ``--repeats``, interleaved (see ``bench_index_auto.py``, which
also compares the runtimes). ``--index-clip ''`` skips it.
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
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.features import default_backend, encode_video, get_encoder
from avr_gui.core.video.decode import sample_frames

REAL_CLIP = Path(__file__).resolve().parents[1].parent / "shared/data/real/pushup2.mp4"


def _clip(tmp: Path) -> Path:
    path = tmp / "bench_720p.mp4"
    frames = render_frames(0, speed_warp(300, (1.0, 2.0)), (1280, 720), ClipStyle(shake=0.003))
    write_video(path, frames, 30.0)
    return path


def index_over_decode(clip: Path, repeats: int) -> dict[str, object]:
    """Decoding time over indexing time of ``clip`` with the default features."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_index_auto import decode_s, index_s  # the one definition of both runs

    backend = default_backend()
    enc = get_encoder(backend)
    decode_s(clip)  # file cache and codec warm
    dec = idx = float("inf")
    for _ in range(repeats):
        dec = min(dec, decode_s(clip)[0])
        idx = min(idx, index_s(clip, enc))
    return {
        "index_clip": clip.name,
        "index_backend": backend,
        "index_runtime": getattr(getattr(enc, "appearance", enc), "runtime", None),
        "index_load_1min": os.getloadavg()[0],
        "index_over_decode": round(dec / idx, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", help="clip to decode (default: a generated 720p clip)")
    ap.add_argument("--fps", type=float, default=10.0, help="sampling rate (default 10)")
    ap.add_argument(
        "--backends", default="thumb16,effnet-lite0:112,effnet-lite0:160,effnet-lite0:224"
    )
    ap.add_argument("--index-clip", default=str(REAL_CLIP), help="'' skips index_over_decode")
    ap.add_argument("--repeats", type=int, default=2, help="index_over_decode: best of")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    specs = [s for s in args.backends.split(",") if s]
    # The generated clip is needed only by the per-backend runs.
    video: Path | None = Path(args.video) if args.video else _clip(tmp) if specs else None

    def decode(side: int | None) -> list[np.ndarray]:
        assert video is not None  # only the per-backend runs decode it
        return [f.image for f in sample_frames(video, args.fps, size=side)]

    if specs:
        decode(None)  # warm the file cache
    out: dict[str, object] = {"video": str(video), "cpu_count": os.cpu_count(), "backends": {}}
    for spec in specs:
        name, _, size = spec.partition(":")
        enc = get_encoder(name, **({"size": int(size)} if size else {}))
        # Decode-only exactly as the pipeline decodes for this encoder (same frame size).
        t0 = time.perf_counter()
        frames = decode(enc.decode_side)
        decode_fps = len(frames) / (time.perf_counter() - t0)
        # Warm-up. On CUDA (an H200) the first pass took seconds: encode-only measured
        # 39-48 frames/s after a one-batch warm-up, against 460-830 in the pipeline run
        # just after it. So there the whole pass is run once untimed.
        enc.encode(frames[: enc.batch_size])
        if enc.device.startswith("cuda"):
            for a in range(0, len(frames), enc.batch_size):
                enc.encode(frames[a : a + enc.batch_size])
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
    if args.index_clip:
        ratio = index_over_decode(Path(args.index_clip), args.repeats)
        out.update(ratio)
        print(
            f"index_over_decode ({ratio['index_backend']}, {ratio['index_clip']}, load "
            f"{ratio['index_load_1min']:.1f}): {ratio['index_over_decode']}"
        )
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
