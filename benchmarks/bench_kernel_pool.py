"""Library queries with the alignment kernels inline against a thread pool, side by side.

Run: ``python benchmarks/bench_kernel_pool.py [--clips 10000] [--rounds 3] [--json PATH]``
(builds a synthetic library like ``bench_query.py``'s; about a minute).

The same 16 queries (8 lengths, twice) run each way in turn, the order alternating:
``inline`` runs every kernel batch on the calling thread; ``pooled`` on a shared pool of
as many threads as usable cores (forced even where the product would not use one).
Keys: ``query_ms_inline`` / ``query_ms_pooled`` (medians per round),
``inline_over_pooled`` (their ratio per round), ``usable_cores``, ``default_workers``
(what the product uses here) and ``same_results`` (identical ranked lists and costs).
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
from bench_query import build_library, retimed_query
from synthetic_features import as_sequence

import avr_gui.core.align.workers as W
from avr_gui.core.atomic import write_text
from avr_gui.core.library import Library


def _set(workers: int) -> None:
    """Make ``kernel_pool()`` use ``workers`` threads (1: inline)."""
    W.default_workers = lambda: workers  # type: ignore[assignment]
    if W._pool is not None:
        W._pool.shutdown(wait=True)
    W._pool = None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    product = W.default_workers()
    cores = W.usable_cores()
    pooled_threads = max(2, cores)
    out: dict = {
        "usable_cores": cores,
        "default_workers": product,
        "pooled_threads": pooled_threads,
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "query_ms_inline": [],
        "query_ms_pooled": [],
        "inline_over_pooled": [],
    }
    same = True
    with tempfile.TemporaryDirectory(prefix="avr-pool-") as tmp:
        arrays = build_library(Path(tmp) / "lib", args.clips, 256, 500)
        a0 = arrays[0]
        with Library.open(Path(tmp) / "lib") as lib:
            lib.search_index()
            rng = np.random.default_rng(1)
            warm = a0[:300] + rng.standard_normal((300, 256)).astype(np.float32)
            for w in (1, pooled_threads):
                _set(w)
                lib.query(as_sequence(warm, "warm"), top=10, candidates=50)
            for _ in range(args.rounds):
                t: dict[int, list[float]] = {1: [], pooled_threads: []}
                for k in range(16):
                    n = 150 + 23 * (k % 8)
                    q = as_sequence(retimed_query(a0, n, rng), f"q{k}")
                    order = (1, pooled_threads) if k % 2 else (pooled_threads, 1)
                    got = {}
                    for w in order:
                        _set(w)
                        t0 = time.perf_counter()
                        res = lib.query(q, top=10, candidates=50)
                        t[w].append(time.perf_counter() - t0)
                        got[w] = [(m.path, m.dtw_cost, m.draq) for m in res.results]
                    same &= got[1] == got[pooled_threads]
                a, b = float(np.median(t[1]) * 1e3), float(np.median(t[pooled_threads]) * 1e3)
                out["query_ms_inline"].append(round(a, 1))
                out["query_ms_pooled"].append(round(b, 1))
                out["inline_over_pooled"].append(round(a / b, 3))
    _set(product)
    out["same_results"] = bool(same)
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
