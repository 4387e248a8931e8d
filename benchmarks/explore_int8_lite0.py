"""int8 EfficientNet-Lite0 on ONNX Runtime, judged by speed and by E1 (not shipped).

Run: ``python benchmarks/explore_int8_lite0.py [--json PATH]`` (about 10 minutes on
2 cores: quantisation, a speed comparison, then E1 twice).

1. The product's float graph (from the ONNX cache, built if missing) is statically
   quantised: QDQ, int8 weights per channel, uint8 activations, calibrated on frames of
   generated clips only (``generate_library``, seed 7, 640x360, 2 frames per second).
2. Speed: 16-frame batches of random 448x448 frames, float and int8 interleaved, best
   of 8, milliseconds per frame; the cosine of the two graphs' features.
3. E1 (``benchmarks/eval_e1.py``'s ``run_e1`` on the real clips, ``effnet-lite0@224``)
   with each graph: median and worst error, contextualized and as shown.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import avr_gui.core.features.onnx_runtime as ort_mod
from avr_gui.core.atomic import write_text
from avr_gui.core.demo.synth_library import generate_library
from avr_gui.core.eval.e1 import run_e1
from avr_gui.core.features import get_encoder
from avr_gui.core.features.encoders import _bgr_batch
from avr_gui.core.video.decode import sample_frames

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def quantised(float_graph: Path, out: Path) -> bytes:
    """The int8 graph of ``float_graph``, calibrated on generated clips."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    with tempfile.TemporaryDirectory(prefix="avr-int8-") as tmp:
        generate_library(Path(tmp) / "lib", seed=7, size=(640, 360))
        frames = [
            f.image for c in sorted((Path(tmp) / "lib").glob("*.mp4")) for f in sample_frames(c, 2)
        ]
    batches = [_bgr_batch(frames[i : i + 8], 224) for i in range(0, len(frames), 8)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(batches)

        def get_next(self) -> dict | None:
            b = next(self.it, None)
            return None if b is None else {ort_mod.INPUT_NAME: b}

    quantize_static(
        str(float_graph),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
    )
    return out.read_bytes()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    clips = sorted((args.data / "real").glob("*.mp4"))
    if not clips:
        print(f"no clips in {args.data / 'real'}", file=sys.stderr)
        return 2
    enc = get_encoder("effnet-lite0", size=224)  # builds and caches the float graph
    assert enc.model_file is not None, "the float graph could not be cached"
    with tempfile.TemporaryDirectory(prefix="avr-int8-") as tmp:
        int8 = quantised(enc.model_file, Path(tmp) / "int8.onnx")
    graph = {"float": None, "int8": int8}
    init = ort_mod.Lite0Session.__init__
    which = {"mode": "float"}

    def patched(self: ort_mod.Lite0Session, model: bytes, threads: int | None = None) -> None:
        init(self, graph[which["mode"]] or model, threads)

    ort_mod.Lite0Session.__init__ = patched  # type: ignore[method-assign]
    encs = {}
    for mode in ("float", "int8"):
        which["mode"] = mode
        encs[mode] = get_encoder("effnet-lite0", size=224)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (448, 448, 3), np.uint8) for _ in range(16)]
    t: dict[str, list[float]] = {"float": [], "int8": []}
    for mode in ("float", "int8"):
        encs[mode].encode(frames)
    for _ in range(8):
        for mode in ("float", "int8"):
            s = time.perf_counter()
            encs[mode].encode(frames)
            t[mode].append(time.perf_counter() - s)
    fa, fb = encs["float"].encode(frames), encs["int8"].encode(frames)
    cos = (fa * fb).sum(1) / np.linalg.norm(fa, axis=1) / np.linalg.norm(fb, axis=1)
    out: dict = {
        "ms_per_frame": {m: round(min(v) / len(frames) * 1e3, 2) for m, v in t.items()},
        "cosine_min_median": [round(float(cos.min()), 4), round(float(np.median(cos)), 4)],
        "e1": {},
    }
    print(json.dumps(out), flush=True)
    for mode in ("float", "int8"):
        summary = run_e1(clips, {"effnet-lite0@224": encs[mode]}, seed=0, fps=10.0).summary()
        out["e1"][mode] = summary
        print(mode, json.dumps(summary), flush=True)
    if args.json:
        write_text(args.json, json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
