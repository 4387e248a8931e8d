"""Side-by-side speed of the alignment engine against reference implementations.

Run: ``python benchmarks/bench_align.py [--json PATH] [--long-frames N]``. Every
figure is a ratio of timings taken in this one run (the machine is noisy): best of
several repeats each, interleaved so that a slow spell hurts both sides alike.

The long-clip figures (``long_align_s``, ``long_align_peak_mb``) come from a child
process that aligns two related ``--long-frames`` sequences (36,000 by default: two
1-hour clips at 10 fps) with :func:`align_auto`; the peak is the child's whole
resident set at its highest (``VmHWM`` of ``/proc/self/status``: interpreter,
libraries, the generated features and everything the alignment allocated), an upper
bound on what the alignment itself needs. (``getrusage(RUSAGE_CHILDREN)`` would not
do: Linux folds the parent's peak into a child's ``ru_maxrss`` at fork/exec.)
``--long-frames 0`` skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from avr_gui.core.align import (
    AlignmentOptions,
    align_cost,
    align_many,
    band_limits,
    cost_matrix,
    dtw,
    multiscale_dtw,
)
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.draq import _CACHE, expected_random_cost, random_path_costs

BAND = 0.1  # Sakoe-Chiba radius of the banded measurement


def best_of(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    warm: Callable[[], object] | None = None,
) -> dict[str, float]:
    """Best wall time (s) of each function, the repeats interleaved across functions.

    ``warm`` runs (untimed) before every timed call: it reads the inputs back into the
    CPU caches, so no function pays for the cache misses its predecessor caused.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            if warm is not None:
                warm()
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def numpy_cosine_costs(q: np.ndarray, cands: list[np.ndarray]) -> list[np.ndarray]:
    """The plain-numpy reference: one normalised product per candidate."""
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    out = []
    for c in cands:
        cn = c / np.linalg.norm(c, axis=1, keepdims=True)
        out.append(1.0 - qn @ cn.T)
    return out


def _kernel_calls(C: np.ndarray, band: float) -> tuple[Callable[[], object], ...]:
    """The banded and the full DTW kernels on ``C``, buffers prepared, no checks."""
    from avr_gui.core.align import _kernels as K
    from avr_gui.core.align.dtw import _band_layout

    n, m = C.shape
    lo, hi, sb, cb, cells = _band_layout(n, m, band)
    S_band = np.empty(int(cells), np.uint8)
    S_full = np.empty((n, m), np.uint8)
    prev, nxt = np.empty(m, np.float32), np.empty(m, np.float32)
    flat = C.reshape(-1)

    def banded() -> object:
        return K.dtw_window(flat, cb, lo, hi, S_band, sb, prev, nxt, 0, n, False)

    def full() -> object:
        return K.dtw_full(C, False, S_full)

    return banded, full


def related_pair(frames: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random-walk feature sequence and a time-warped noisy copy of it.

    The copy replays the walk at a speed that drifts between 0.3x and 1.7x, with a
    pause (speed 0) of 2 % of the clip, plus Gaussian noise.
    """
    rng = np.random.default_rng(seed)
    base = np.cumsum(rng.standard_normal((frames, d), dtype=np.float32), axis=0)
    t = np.arange(frames)
    speeds = 1.0 + 0.7 * np.sin(t / max(frames / 40, 1.0))
    speeds[frames // 2 : frames // 2 + frames // 50] = 0.0
    idx = np.clip(np.round(np.cumsum(speeds)), 0, frames - 1).astype(np.int64)
    warped = base[idx] + 0.5 * rng.standard_normal((frames, d), dtype=np.float32)
    return base, warped


_LONG_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.bench_align import related_pair
from avr_gui.core.align import AlignmentOptions, align_auto
q, c = related_pair({frames}, {d})
align_auto(q[:6000], c[:6000])  # compile (or load) the kernels outside the timing
t0 = time.perf_counter()
res = align_auto(q, c, AlignmentOptions())
seconds = time.perf_counter() - t0
with open("/proc/self/status") as fh:
    hwm_kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({{"s": seconds, "peak_kib": hwm_kib, "draq": res.draq}}))
"""


def long_align(frames: int, d: int) -> dict[str, float]:
    """Align two related ``frames``-long sequences in a child; time and peak RSS."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _LONG_CHILD.format(root=root, frames=frames, d=d)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"s": out["s"], "peak_mb": out["peak_kib"] * 1024 / 1e6, "draq": out["draq"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH", help="write the figures as JSON here")
    ap.add_argument("--size", type=int, default=1000, help="cost matrix side (default 1000)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument(
        "--long-frames",
        type=int,
        default=36_000,
        help="frames per clip of the long alignment (default 36000; 0 skips it)",
    )
    ap.add_argument("--long-dims", type=int, default=128, help="feature size of the long clips")
    ap.add_argument(
        "--ratio-frames", type=int, default=4000, help="side of the multiscale-vs-exact pair"
    )
    args = ap.parse_args(argv)

    import librosa
    from tslearn.metrics import dtw_path_from_metric

    t_start = time.perf_counter()
    rng = np.random.default_rng(0)
    n = args.size
    C = rng.random((n, n), dtype=np.float32)
    C64 = C.astype(np.float64)

    def ours() -> object:
        return dtw(C)

    def banded() -> object:
        return dtw(C, band=BAND)

    sampled_opts = AlignmentOptions(draq_method="sampled", draq_samples=100)

    # Warm up: numba compilation and the per-shape cache are not what we time.
    ours()
    banded()
    align_cost(C)
    align_cost(C, sampled_opts)
    librosa.sequence.dtw(C=C, backtrack=True)
    dtw_path_from_metric(C64, metric="precomputed")
    expected_random_cost(C)
    random_path_costs(C, 100, 0)

    # Each comparison is its own interleaved group: a reference that churns through
    # memory (librosa's float64 matrices) must not slow the DRAQ measurement down.
    t = best_of(
        {
            "ours": ours,
            "librosa": lambda: librosa.sequence.dtw(C=C, backtrack=True),
            "tslearn": lambda: dtw_path_from_metric(C64, metric="precomputed"),
        },
        args.repeats,
        warm=lambda: (C.sum(), C64.sum()),
    )
    b = best_of({"ours": ours, "banded": banded}, 2 * args.repeats)
    lo, hi = band_limits(n, n, BAND)
    band_cells = int((hi - lo + 1).sum())
    # The same two kernels without their wrappers. What the public calls add on top
    # (buffers, the band layout lookup, the backtrack) is a fixed cost per call, which
    # weighs more per cell on the banded call's fewer cells. Neither scans the matrix
    # for NaN/inf: both validate by their kernel's checksum of the cells it read.
    kb, kf = _kernel_calls(C, BAND)
    kb()
    kf()
    bk = best_of({"full": kf, "banded": kb}, 2 * args.repeats)
    e = best_of({"ours": ours, "dtw_exact": lambda: align_cost(C)}, args.repeats)
    s = best_of({"ours": ours, "dtw_sampled": lambda: align_cost(C, sampled_opts)}, args.repeats)
    alone = best_of(
        {
            "ours": ours,
            "exact_alone": lambda: expected_random_cost(C),
            "sampled_alone": lambda: random_path_costs(C, 100, 0),
        },
        args.repeats,
    )

    def exact_cold() -> object:
        _CACHE.clear()
        return expected_random_cost(C)

    cold = best_of({"ours": ours, "exact_cold": exact_cold}, 3)

    # Re-ranking: one query against 50 candidates, 300 frames each, contextualized
    # features of d = 2560 (1280-d frame features, e.g. EfficientNet-Lite0, doubled).
    q_raw = rng.standard_normal((300, 1280), dtype=np.float32)
    cands_raw = [rng.standard_normal((300, 1280), dtype=np.float32) for _ in range(50)]
    q_ctx = contextualize(q_raw)
    cands_ctx = [contextualize(c) for c in cands_raw]
    opts = AlignmentOptions(context=True, device="cpu")
    align_many(q_raw, cands_raw, opts)
    numpy_cosine_costs(q_ctx, cands_ctx)
    r = best_of(
        {
            "rerank": lambda: align_many(q_raw, cands_raw, opts),
            "numpy_costs": lambda: numpy_cosine_costs(q_ctx, cands_ctx),
        },
        args.repeats,
    )
    _CACHE.clear()

    # Multiscale against exact DTW on one related pair (the exact side forms the matrix).
    k = args.ratio_frames
    rq, rc = related_pair(k, 64, seed=1)
    rq, rc = contextualize(rq, unit=True), contextualize(rc, unit=True)
    exact_cost = dtw(cost_matrix(rq, rc)).cost
    multi_cost = multiscale_dtw(rq, rc, unit=True)[0].cost
    del rq, rc

    long = long_align(args.long_frames, args.long_dims) if args.long_frames > 0 else None

    figures = {
        "size": n,
        "dtw_ms": t["ours"] * 1e3,
        "librosa_ms": t["librosa"] * 1e3,
        "tslearn_ms": t["tslearn"] * 1e3,
        "speedup_vs_librosa": t["librosa"] / t["ours"],
        "speedup_vs_tslearn": t["tslearn"] / t["ours"],
        # Full DTW with path, cells per second (n^2 / time).
        "dtw_gcells_per_s": n * n / t["ours"] / 1e9,
        # Public dtw(C, band=0.1) per band cell over dtw(C) per cell; each checks only
        # the cells it reads (the band, or every cell), by its kernel's checksum.
        "banded_ms": b["banded"] * 1e3,
        "banded_cells": band_cells,
        "banded_per_cell_over_full": (b["banded"] / band_cells) / (b["ours"] / (n * n)),
        "banded_kernel_per_cell_over_full": (bk["banded"] / band_cells) / (bk["full"] / (n * n)),
        # DTW-with-path plus DRAQ as the product runs them (align_cost), over DTW alone.
        "exact_draq_overhead": e["dtw_exact"] / e["ours"] - 1.0,
        "sampled_draq_overhead": s["dtw_sampled"] / s["ours"] - 1.0,
        # DRAQ computed on its own from a finished DTW (draq() / random_path_costs()).
        "exact_draq_alone_over_dtw": alone["exact_alone"] / alone["ours"],
        "sampled_draq_alone_over_dtw": alone["sampled_alone"] / alone["ours"],
        # A new shape must first compute its visit probabilities (then cached).
        "exact_draq_cold_shape_over_dtw": cold["exact_cold"] / cold["ours"],
        "rerank_ms": r["rerank"] * 1e3,
        "numpy_costs_ms": r["numpy_costs"] * 1e3,
        "rerank_over_cost_matrices": r["rerank"] / r["numpy_costs"],
        "long_align_cost_ratio": multi_cost / exact_cost,
        "long_align_ratio_frames": k,
        "long_frames": args.long_frames,
        "long_align_s": long["s"] if long else None,
        "long_align_peak_mb": long["peak_mb"] if long else None,
        "long_align_draq": long["draq"] if long else None,
        "cpu_count": os.cpu_count(),
        "total_s": time.perf_counter() - t_start,
    }
    for key, value in figures.items():
        print(f"{key:34s} {value:10.3f}" if isinstance(value, float) else f"{key:34s} {value}")
    if args.json:
        directory = os.path.dirname(os.path.abspath(args.json))
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(figures, fh, indent=2)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
