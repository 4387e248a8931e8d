"""Decode throughput (frames/s) of a generated 720p clip: OpenCV against PyAV.

Run: ``python benchmarks/bench_decode.py [--json PATH] [--seconds 10] [--repeats 3]``.
Every figure is the best of ``--repeats`` runs, the variants interleaved so that a slow
spell of the (noisy) machine hurts all of them alike. "decode only" skips the
conversion to BGR (``grab()`` in OpenCV, no ``to_ndarray`` in PyAV); "bgr" converts
every frame at full size; "bgr@320" also shrinks it so the longest side is 320 px.
The ``sample_frames`` and ``FrameReader`` rows are this package's public paths; their
frames/s count *source* frames decoded (the 10 fps rows keep a third of them), except
the random ``FrameReader`` row, which counts reads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.demo.synth import render_frames, write_video, write_video_av
from avr_gui.core.video import FrameReader, probe, sample_frames

SIDE = 320  # the resized variants bound the longest side to this many pixels


def make_clip(folder: Path, seconds: float, fps: int, codec: str) -> Path:
    """A 1280x720 clip of ``seconds`` at ``fps`` in ``codec`` (``libx264`` or ``mp4v``)."""
    n = round(seconds * fps)
    frames = render_frames(0, np.linspace(0.0, 1.0, n), (1280, 720), code=True)
    path = folder / f"clip_720p_{codec}.mp4"
    if codec == "mp4v":
        write_video(path, frames, fps)
    else:
        write_video_av(path, frames, fps, codec=codec, gop=fps * 2)
    return path


def cv2_loop(path: Path, mode: str) -> int:
    cap = cv2.VideoCapture(os.fspath(path))
    n = 0
    try:
        while True:
            if mode == "decode":
                if not cap.grab():
                    break
            else:
                ok, image = cap.read()
                if not ok:
                    break
                if mode == "resize":
                    h, w = image.shape[:2]
                    s = SIDE / max(h, w)
                    cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            n += 1
    finally:
        cap.release()
    return n


def pyav_loop(path: Path, mode: str, threads: str = "AUTO", interpolation: str = "AREA") -> int:
    n = 0
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = threads
        for frame in container.decode(stream):
            if mode == "bgr":
                frame.to_ndarray(format="bgr24")
            elif mode == "i420":
                cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
            elif mode == "resize":
                s = SIDE / max(frame.width, frame.height)
                frame.to_ndarray(
                    width=round(frame.width * s),
                    height=round(frame.height * s),
                    format="bgr24",
                    interpolation=interpolation,
                )
            n += 1
    return n


def reader_loop(path: Path, order: str, reads: int = 60) -> int:
    with FrameReader(path) as reader:
        if order == "sequential":
            idx = np.arange(len(reader))
        else:
            idx = np.random.default_rng(0).integers(0, len(reader), reads)
        for i in idx:
            reader.read(int(i))
    return len(idx)


def variants(path: Path) -> dict[str, Callable[[], int]]:
    n_source = probe(path).frame_count

    def sample(decoder: str, size: int | None, fps: float | None) -> Callable[[], int]:
        def run() -> int:
            for _ in sample_frames(path, fps, size=size, decoder=decoder):
                pass
            return n_source

        return run

    return {
        "cv2 decode only": lambda: cv2_loop(path, "decode"),
        "cv2 bgr": lambda: cv2_loop(path, "bgr"),
        f"cv2 bgr@{SIDE} (cv2.resize INTER_AREA)": lambda: cv2_loop(path, "resize"),
        "pyav decode only (frame threads)": lambda: pyav_loop(path, "decode"),
        "pyav decode only (slice threads)": lambda: pyav_loop(path, "decode", "SLICE"),
        "pyav bgr (frame threads)": lambda: pyav_loop(path, "bgr"),
        "pyav bgr (slice threads)": lambda: pyav_loop(path, "bgr", "SLICE"),
        "pyav bgr (I420 planes + cv2.cvtColor)": lambda: pyav_loop(path, "i420"),
        f"pyav bgr@{SIDE} (swscale AREA)": lambda: pyav_loop(path, "resize"),
        f"pyav bgr@{SIDE} (swscale BILINEAR)": lambda: pyav_loop(
            path, "resize", interpolation="BILINEAR"
        ),
        "sample_frames all, pyav": sample("pyav", None, None),
        "sample_frames all, opencv": sample("opencv", None, None),
        f"sample_frames all size={SIDE}, pyav": sample("pyav", SIDE, None),
        f"sample_frames all size={SIDE}, opencv": sample("opencv", SIDE, None),
        f"sample_frames 10 fps size={SIDE}, pyav": sample("pyav", SIDE, 10.0),
        f"sample_frames 10 fps size={SIDE}, opencv": sample("opencv", SIDE, 10.0),
        "FrameReader sequential (reads)": lambda: reader_loop(path, "sequential"),
        "FrameReader random (reads)": lambda: reader_loop(path, "random"),
    }


def measure(fns: dict[str, Callable[[], int]], repeats: int) -> dict[str, dict[str, float]]:
    """Best wall time and frames per second of each variant, repeats interleaved."""
    best = dict.fromkeys(fns, float("inf"))
    count = dict.fromkeys(fns, 0)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            count[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {
        name: {"frames": count[name], "seconds": best[name], "fps": count[name] / best[name]}
        for name in fns
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH", help="write the figures as JSON here")
    ap.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    ap.add_argument("--fps", type=int, default=30, help="clip frame rate (default 30)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--codec",
        action="append",
        choices=["libx264", "mp4v"],
        help="codec(s) of the clip (default: both)",
    )
    args = ap.parse_args(argv)
    report: dict[str, object] = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "av": av.__version__,
            "opencv": cv2.__version__,
        },
        "clip": {"size": "1280x720", "seconds": args.seconds, "fps": args.fps},
        "results": {},
    }
    with tempfile.TemporaryDirectory(prefix="avr-bench-decode ") as tmp:
        for codec in args.codec or ["libx264", "mp4v"]:
            path = make_clip(Path(tmp), args.seconds, args.fps, codec)
            rows = measure(variants(path), args.repeats)
            report["results"][codec] = rows  # type: ignore[index]
            print(f"\n{codec}: 1280x720, {args.seconds:g} s at {args.fps} fps")
            for name, row in rows.items():
                print(f"  {name:<44} {row['fps']:8.1f} frames/s  ({row['seconds']:.3f} s)")
    if args.json:
        write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
