"""Side-by-side speed of the alignment engine against reference implementations.

Run: ``python benchmarks/bench_align.py [--json PATH]``. Every figure is a ratio of
timings taken in this one run (the machine is noisy): best of several repeats each,
interleaved so that a slow spell hurts both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from avr_gui.core.align import AlignmentOptions, align_cost, align_many, dtw
from avr_gui.core.align.context import contextualize
from avr_gui.core.align.draq import _CACHE, expected_random_cost, random_path_costs


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH", help="write the figures as JSON here")
    ap.add_argument("--size", type=int, default=1000, help="cost matrix side (default 1000)")
    ap.add_argument("--repeats", type=int, default=15)
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

    sampled_opts = AlignmentOptions(draq_method="sampled", draq_samples=100)

    # Warm up: numba compilation and the per-shape cache are not what we time.
    ours()
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

    figures = {
        "size": n,
        "dtw_ms": t["ours"] * 1e3,
        "librosa_ms": t["librosa"] * 1e3,
        "tslearn_ms": t["tslearn"] * 1e3,
        "speedup_vs_librosa": t["librosa"] / t["ours"],
        "speedup_vs_tslearn": t["tslearn"] / t["ours"],
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
