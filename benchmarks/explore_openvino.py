"""OpenVINO for the default encoders, judged by speed and by E1 (not shipped).

Run: ``pip install openvino`` then ``python benchmarks/explore_openvino.py [--json PATH]
[--skip-e1]`` (about 15 minutes on 2 cores). Exits with a message if OpenVINO is not
installed: it is not one of the product's dependencies.

1. EfficientNet-Lite0 alone: the product's ONNX graph (from the ONNX cache, built if
   missing) on ONNX Runtime and on OpenVINO's CPU plugin at float32 and at bfloat16
   (which OpenVINO runs on AMX or AVX-512 BF16 where the CPU has them), 16-frame
   batches of random 224x224 frames, 1 and 2 threads, interleaved, best of 6: ms per
   frame; the largest difference of the features from ONNX Runtime's.
2. End to end: the ``auto`` features of a real 720p clip indexed through the library's
   indexer (``bench_index_auto.index_s``) with the product's runtimes (ONNX Runtime and
   LiteRT) and with both models on OpenVINO at each precision, beside plain decoding
   (``decode_s``), interleaved, ``--repeats`` rounds: ``index_over_decode`` of each;
   also the pose models alone on OpenVINO bfloat16 (``openvino_bf16_pose_only``).
3. E1 (``run_e1`` on the real clips, ``effnet-lite0@224``) with the appearance graph
   on ONNX Runtime and on OpenVINO bfloat16 (float32 matches ONNX Runtime to ~1e-5).
4. With ``--e3 FOLDER``: ``eval_real.py --learned shipped`` with both models on
   OpenVINO bfloat16, its libraries indexed afresh in FOLDER (about 5 more minutes),
   results in ``FOLDER/eval_real.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import avr_gui.core.features.encoders as enc_mod
import avr_gui.core.features.onnx_runtime as ort_mod
import avr_gui.core.features.pose._litert as lit_mod
import avr_gui.core.features.pose.blazepose as bp_mod
from avr_gui.core.atomic import write_text
from avr_gui.core.eval.e1 import run_e1
from avr_gui.core.features import default_backend, get_encoder

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _compile(core: Any, model: Any, threads: int, precision: str) -> Any:
    config = {
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": precision,
    }
    return core.compile_model(model, "CPU", config)


def openvino_classes(core: Any, precision: str) -> tuple[type, type]:
    """Stand-ins for ``Lite0Session`` and ``TfliteModel`` that run on OpenVINO."""

    class Lite0(ort_mod.Lite0Session):
        def __init__(self, model: bytes, threads: int | None = None) -> None:
            self.threads = threads or ort_mod.default_threads()
            with tempfile.TemporaryDirectory(prefix="avr-ov-") as tmp:
                path = Path(tmp) / "lite0.onnx"
                path.write_bytes(model)
                self._compiled = _compile(core, core.read_model(path), self.threads, precision)
            self._request = self._compiled.create_infer_request()

        def run(self, bgr: np.ndarray) -> np.ndarray:
            out = self._request.infer({0: bgr})[self._compiled.output(0)]
            return np.asarray(out, np.float32)

    class Tflite(lit_mod.TfliteModel):
        def __init__(self, path: Any, num_threads: int | None = None, *, keep: Any = None) -> None:
            super().__init__(path, num_threads, keep=keep)
            raw = Path(path).read_bytes()
            pruned = lit_mod.prune_outputs(raw, set(keep)) if keep is not None else None
            with tempfile.TemporaryDirectory(prefix="avr-ov-") as tmp:
                p = Path(tmp) / "model.tflite"
                p.write_bytes(pruned if pruned is not None else raw)
                self._compiled = _compile(core, core.read_model(p), self.threads, precision)
            self._request = self._compiled.create_infer_request()
            # The kept outputs, matched by their number of values (as TfliteModel keeps them).
            self._ov_outputs: list[Any] = []
            for o in self.outputs:
                size = int(np.prod(o["shape"]))
                match = [
                    c
                    for c in self._compiled.outputs
                    if int(np.prod(list(c.get_shape()))) == size and c not in self._ov_outputs
                ]
                self._ov_outputs.append(match[0])

        def run(self, x: np.ndarray) -> list[np.ndarray]:
            res = self._request.infer({0: x})
            return [np.array(res[o]) for o in self._ov_outputs]

    return Lite0, Tflite


def with_runtime(classes: tuple[type, type] | None, make: Any, *, pose_only: bool = False) -> Any:
    """``make()`` with the sessions swapped for ``classes`` (None: the product's);
    ``pose_only`` swaps the pose models' and keeps the appearance network's."""
    saved = (ort_mod.Lite0Session, lit_mod.TfliteModel, bp_mod.TfliteModel)
    enc_saved = getattr(enc_mod, "Lite0Session", None)
    try:
        if classes is not None:
            lit_mod.TfliteModel = bp_mod.TfliteModel = classes[1]
            if not pose_only:
                ort_mod.Lite0Session = classes[0]
                if enc_saved is not None:
                    enc_mod.Lite0Session = classes[0]
        return make()
    finally:
        ort_mod.Lite0Session, lit_mod.TfliteModel, bp_mod.TfliteModel = saved
        if enc_saved is not None:
            enc_mod.Lite0Session = enc_saved


def lite0_speed(core: Any, graph: bytes) -> dict[str, Any]:
    """ms per frame of the appearance graph alone, per runtime, precision and threads."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (16, 224, 224, 3), dtype=np.uint8)
    runs: dict[str, Any] = {}
    for threads in (1, 2):
        runs[f"onnxruntime_t{threads}"] = ort_mod.Lite0Session(graph, threads)
        for precision in ("f32", "bf16"):
            cls = openvino_classes(core, precision)[0]
            runs[f"openvino_{precision}_t{threads}"] = cls(graph, threads)
    ref = runs["onnxruntime_t2"].run(x)
    diff = {k: float(np.abs(r.run(x) - ref).max()) for k, r in runs.items()}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(6):
        for k, r in runs.items():
            t0 = time.perf_counter()
            r.run(x)
            best[k] = min(best[k], time.perf_counter() - t0)
    return {
        "ms_per_frame": {k: round(v / len(x) * 1e3, 2) for k, v in best.items()},
        "max_abs_diff_vs_onnxruntime": {k: round(v, 6) for k, v in diff.items()},
        "feature_max_abs": round(float(np.abs(ref).max()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--clip", type=Path, default=DEFAULT_DATA / "real" / "pushup2.mp4")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-e1", action="store_true")
    ap.add_argument("--skip-index", action="store_true")
    ap.add_argument("--e3", type=Path, metavar="FOLDER", help="also E3/E3b on bfloat16")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    try:
        import openvino as ov
    except ImportError:
        print("OpenVINO is not installed (pip install openvino)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_index_auto import decode_s, index_s

    core = ov.Core()
    out: dict[str, Any] = {
        "openvino": ov.__version__,
        "cpu_capabilities": core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"),
    }
    enc = get_encoder("effnet-lite0", size=224)
    assert enc.model_file is not None, "the float graph could not be cached"
    out["lite0"] = lite0_speed(core, Path(enc.model_file).read_bytes())
    print(json.dumps(out), flush=True)

    backend = default_backend()
    if args.skip_index:
        args.repeats = 0
    encs = {"product": with_runtime(None, lambda: get_encoder(backend))}
    for precision in ("f32", "bf16"):
        classes = openvino_classes(core, precision)
        encs[f"openvino_{precision}"] = with_runtime(classes, lambda: get_encoder(backend))
    # bfloat16 for the pose models only: the appearance network stays on ONNX Runtime.
    encs["openvino_bf16_pose_only"] = with_runtime(
        openvino_classes(core, "bf16"), lambda: get_encoder(backend), pose_only=True
    )
    decode_s(args.clip)
    rounds = []
    for _ in range(args.repeats):
        d = decode_s(args.clip)[0]
        rounds.append({k: round(d / index_s(args.clip, e), 3) for k, e in encs.items()})
        print("index_over_decode", json.dumps(rounds[-1]), flush=True)
    out["index_backend"] = backend
    out["index_over_decode_rounds"] = rounds

    if not args.skip_e1:
        clips = sorted((args.data / "real").glob("*.mp4"))
        bf16 = openvino_classes(core, "bf16")
        appearance = {
            "onnxruntime": get_encoder("effnet-lite0", size=224),
            "openvino_bf16": with_runtime(bf16, lambda: get_encoder("effnet-lite0", size=224)),
        }
        out["e1"] = {}
        for name, e in appearance.items():
            summary = run_e1(clips, {"effnet-lite0@224": e}, seed=0, fps=10.0).summary()
            out["e1"][name] = summary
            print(name, json.dumps(summary, default=str), flush=True)
    if args.e3:
        import eval_real

        argv_e3 = ["--data", str(args.data), "--work", str(args.e3), "--learned", "shipped"]
        argv_e3 += ["--json", str(args.e3 / "eval_real.json")]
        code = with_runtime(openvino_classes(core, "bf16"), lambda: eval_real.main(argv_e3))
        out["e3_bf16"] = str(args.e3 / "eval_real.json") if code == 0 else f"failed ({code})"
    if args.json:
        write_text(args.json, json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
