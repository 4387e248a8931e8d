"""Exact clip search: one BLAS product against faiss's flat scan, in whole queries.

Run: ``python benchmarks/bench_exact_search.py [--clips 100000] [--json PATH]``
(builds a synthetic library like ``bench_query.py``'s, about a minute at 100k).

The same library queried the same way, each query run twice in turn: once with exact
search answered by faiss (``EXACT_BLAS_QUERIES = 0``), once by the BLAS product (the
product). Keys: ``search_ms_faiss`` / ``search_ms_blas`` (the search alone, median),
``query_ms_faiss`` / ``query_ms_blas`` (whole ``Library.query``, median), their ratios,
and ``same_results`` (every query's ranked list identical both ways).
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

import avr_gui.core.library.ann as ann
from avr_gui.core.atomic import write_text
from avr_gui.core.library import Library
from avr_gui.core.library.descriptor import clip_descriptor
from avr_gui.core.library.queries import retrieval_features


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=12)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    blas = ann.EXACT_BLAS_QUERIES
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="avr-exact-") as tmp:
        arrays = build_library(Path(tmp) / "lib", args.clips, 256, 500)
        with Library.open(Path(tmp) / "lib") as lib:
            index = lib.search_index()
            assert index.index.kind == "exact", index.index.kind
            rng = np.random.default_rng(1)
            warm = arrays[0][:300] + rng.standard_normal((300, 256)).astype(np.float32)
            lib.query(as_sequence(warm, "warm"), top=10, candidates=50)
            t = {"search_faiss": [], "search_blas": [], "query_faiss": [], "query_blas": []}
            same = True
            for k in range(args.queries):
                src = arrays[int(rng.integers(len(arrays)))]
                n = 150 + 23 * k
                q = as_sequence(retimed_query(src, n, rng), f"q{k}")
                desc = clip_descriptor(retrieval_features(q.features, lib.encoder_name))
                ranked = {}
                for name, limit in (("faiss", 0), ("blas", blas)):
                    ann.EXACT_BLAS_QUERIES = limit
                    t0 = time.perf_counter()
                    index.search(desc, 50)
                    t["search_" + name].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    res = lib.query(q, top=10, candidates=50)
                    t["query_" + name].append(time.perf_counter() - t0)
                    ranked[name] = [m.path for m in res.results]
                same &= ranked["faiss"] == ranked["blas"]
            ann.EXACT_BLAS_QUERIES = blas
    med = {k: float(np.median(v) * 1e3) for k, v in t.items()}
    out = {
        "clips": args.clips,
        "load_average_1min_at_start": round(load, 2),
        "search_ms_faiss": med["search_faiss"],
        "search_ms_blas": med["search_blas"],
        "query_ms_faiss": med["query_faiss"],
        "query_ms_blas": med["query_blas"],
        "query_blas_over_faiss": med["query_blas"] / med["query_faiss"],
        "search_blas_over_faiss": med["search_blas"] / med["search_faiss"],
        "same_results": bool(same),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
