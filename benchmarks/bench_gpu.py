"""The CUDA paths against the CPU on the same machine: throughput and agreement (issue 16).

Run: ``python benchmarks/bench_gpu.py --clip ../shared/data/real/pushup2.mp4 --json
out/bench_gpu.json`` on a machine with a CUDA GPU (it exits with a one-line message
without one). Side by side in one run:

- ``decode_fps``: the clip sampled at 10 fps and decoded at the appearance encoder's
  decode side, as indexing decodes it (one decoder, CPU).
- ``encode_cpu_fps``: EfficientNet-Lite0 on ONNX Runtime with every core (the CPU
  default), batches of 16; ``encode_gpu_fps[b]``: the same frames on CUDA in half
  precision (the GPU default) in batches of ``b``, input resizing on the CPU included;
  ``resize_fps``: that resizing alone (the CPU share of the GPU path);
  ``encode_gpu_cudnn_benchmark_fps``: the default batch with cuDNN's autotuner on.
- ``encode_gpu_new_thread_fps``: each batch run from a thread started for it (how the
  fused encoder ran the appearance network beside the pose model before 2026-11-30);
  ``encode_gpu_one_thread_fps``: every batch from one long-lived worker thread (how
  it runs now).
- ``agreement``: GPU half precision against the CPU's float32 features of the same
  frames: the smallest per-frame cosine and the relative Frobenius error.
- ``pipeline_gpu_fps``: ``encode_video`` on CUDA (decoder thread ahead of the GPU), and
  ``pipeline_over_decode`` = that over ``decode_fps`` (1.0 = as fast as decoding).
- ``cost_ms``: a query's cost matrices, 300 frames against 50 candidates of 300
  frames, at 256 and 1,280 dimensions, on the CPU and on CUDA (copies included),
  median of 20.
- ``cuda_start_s``: a fresh process importing torch and making its first CUDA tensor:
  what a command-line query pays before its first product when it uses the GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from avr_gui.core.align import cost_matrices
from avr_gui.core.atomic import write_text
from avr_gui.core.features import encode_video
from avr_gui.core.features.encoders import EfficientNetEncoder, _rgb_batch
from avr_gui.core.video.decode import sample_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[1].parent / "shared/data/real/pushup2.mp4"


def _best_fps(run, n: int, repeats: int = 3) -> float:
    """Frames per second of the fastest of ``repeats`` calls of ``run`` over ``n`` frames."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return n / best


def _encode_all(enc: EfficientNetEncoder, frames: list[np.ndarray], batch: int) -> np.ndarray:
    return np.concatenate([enc.encode(frames[a : a + batch]) for a in range(0, len(frames), batch)])


def _agreement(gpu: np.ndarray, cpu: np.ndarray) -> dict[str, float]:
    g = gpu / np.linalg.norm(gpu, axis=1, keepdims=True)
    c = cpu / np.linalg.norm(cpu, axis=1, keepdims=True)
    return {
        "min_cosine": float(np.sum(g * c, axis=1).min()),
        "relative_error": float(np.linalg.norm(gpu - cpu) / np.linalg.norm(cpu)),
        "max_abs_error": float(np.abs(gpu - cpu).max()),
        "max_abs_value": float(np.abs(cpu).max()),
    }


def _cost_ms(device: str, dim: int, rng: np.random.Generator) -> float:
    q = rng.normal(size=(300, dim)).astype(np.float32)
    cands = [rng.normal(size=(300, dim)).astype(np.float32) for _ in range(50)]
    cost_matrices(q, cands, device=device)  # warm-up (and CUDA start)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        cost_matrices(q, cands, device=device)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _cuda_start_s() -> float:
    code = (
        "import time; t = time.perf_counter(); import torch; "
        "torch.zeros(1, device='cuda'); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--batches", default="16,32,64,128,256")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA GPU here", file=sys.stderr)
        return 2
    if not args.clip.is_file():
        print(f"bench_gpu: {args.clip} missing", file=sys.stderr)
        return 2
    out: dict[str, object] = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu_count": os.cpu_count(),
        "load_1min_start": os.getloadavg()[0],
        "clip": args.clip.name,
    }
    out["cuda_start_s"] = round(_cuda_start_s(), 3)
    cpu = EfficientNetEncoder(device="cpu")
    gpu = EfficientNetEncoder(device="cuda")
    list(sample_frames(args.clip, args.fps, size=gpu.decode_side))  # file cache warm
    t0 = time.perf_counter()
    frames = [f.image for f in sample_frames(args.clip, args.fps, size=gpu.decode_side)]
    n = len(frames)
    out["frames"] = n
    out["decode_fps"] = round(n / (time.perf_counter() - t0), 1)

    ref = _encode_all(cpu, frames, cpu.batch_size)
    out["encode_cpu_fps"] = round(
        _best_fps(lambda: _encode_all(cpu, frames, cpu.batch_size), n, 2), 1
    )
    out["resize_fps"] = round(
        _best_fps(lambda: [_rgb_batch(frames[a : a + 32], gpu.size) for a in range(0, n, 32)], n),
        1,
    )
    gpu_fps = {}
    for b in (int(s) for s in args.batches.split(",") if s):
        _encode_all(gpu, frames[: 2 * b], b)  # warm-up at this shape
        gpu_fps[b] = round(_best_fps(lambda b=b: _encode_all(gpu, frames, b), n), 1)
    out["encode_gpu_fps"] = gpu_fps
    feats = _encode_all(gpu, frames, gpu.batch_size)
    out["agreement"] = _agreement(feats, ref)
    out["agreement_after_float16_storage"] = _agreement(
        feats.astype(np.float16).astype(np.float32), ref.astype(np.float16).astype(np.float32)
    )
    torch.backends.cudnn.benchmark = True
    _encode_all(gpu, frames[: 2 * gpu.batch_size], gpu.batch_size)
    out["encode_gpu_cudnn_benchmark_fps"] = round(
        _best_fps(lambda: _encode_all(gpu, frames, gpu.batch_size), n), 1
    )
    torch.backends.cudnn.benchmark = False

    def new_thread_each_batch() -> None:
        for a in range(0, n, gpu.batch_size):
            t = threading.Thread(target=gpu.encode, args=(frames[a : a + gpu.batch_size],))
            t.start()
            t.join()

    with ThreadPoolExecutor(1) as pool:

        def one_thread() -> None:
            for a in range(0, n, gpu.batch_size):
                pool.submit(gpu.encode, frames[a : a + gpu.batch_size]).result()

        one_thread()  # warm
        out["encode_gpu_one_thread_fps"] = round(_best_fps(one_thread, n), 1)
    new_thread_each_batch()
    out["encode_gpu_new_thread_fps"] = round(_best_fps(new_thread_each_batch, n), 1)

    encode_video(args.clip, gpu, fps=args.fps)  # warm
    t0 = time.perf_counter()
    seq = encode_video(args.clip, gpu, fps=args.fps)
    out["pipeline_gpu_fps"] = round(seq.features.shape[0] / (time.perf_counter() - t0), 1)
    out["pipeline_over_decode"] = round(out["pipeline_gpu_fps"] / out["decode_fps"], 3)

    rng = np.random.default_rng(0)
    out["cost_ms"] = {
        f"{dev}_d{dim}": round(_cost_ms(dev, dim, rng), 2)
        for dim in (256, 1280)
        for dev in ("cpu", "cuda")
    }
    out["load_1min_end"] = os.getloadavg()[0]
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        write_text(args.json, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
