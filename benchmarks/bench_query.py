"""Query and re-index speed of the library on synthetic feature arrays.

Keys (``--json PATH``):

- ``query_ms_10k`` / ``query_ms_100k``: query features -> ranked top 10 after re-ranking
  K = 50 by the shipped score (retrieval + loading 50 stored clips + contextualize +
  cost + DTW; exact DRAQ and the partial alignment of the 10 shown), median over
  queries of distinct lengths, on libraries of 10,000 and 100,000 clips of 100-600
  frames with d = 256 (the PCA-256 storage size; thumb16's size).
- ``query_cpu_ms_10k_all_cues``: the 10k queries computing every cue (DRAQ of every
  candidate), as before cues the shipped score gives no weight were skipped, run in
  turn with them; ``query_cpu_all_cues_over_used`` is the ratio of the CPU medians.
- ``shown_batch_over_loop``: aligning a query's 10 shown matches (partial alignment,
  as shown) in one batch, over one call per match; best of 7 interleaved.
- ``query_products_ms_10k``: of the 10k queries (run again), the median milliseconds
  spent inside the cost matrices' matrix products (``np.matmul`` in
  ``core/align/cost.py``, timed in place); ``query_products_share_10k`` their median
  share of each query's wall time: the part of a query that BLAS sets.
- ``query_ms_10k_d1280``: the same at d = 1280 (raw EfficientNet-Lite0 features, what
  the library stores for the default encoder), re-ranked as the product does on the
  library's compact copies (``query_d1280_ranked_dims``: 256; ``library/projection.py``);
  ``query_ms_10k_d1280_full``: the same queries on the full 1,280 dimensions, run after
  it on the same library; ``query_d1280_compact_over_full`` their ratio.
- ``reindex_unchanged_10k_s``: ``Library.index()`` over 10,000 unchanged video files
  (one ``stat`` each, plus a header check of every stored feature file); best of 3.
- ``reindex_touched_1pct_10k_s``: the same after touching 1 % of them (100 files of
  ~12 MB each get a new modification time, same content): each is hashed whole, none
  decoded. ``hash_touched_1pct_10k_s``: hashing those 100 files directly
  (:func:`~avr_gui.core.library.scan.fingerprint`). ``reindex_touched_1pct_ratio``:
  what touching added to the re-index (touched minus unchanged) over that direct
  hashing; about 1 when a touched file costs its hash and nothing more. Best of 3 each.
- ``hnsw_recall_at_50_20k``: recall of the HNSW index against exact search (top 50).

Clips share 500 distinct stored arrays (content-keyed storage lets rows share one),
so a 100,000-clip library fits this machine's disk; every clip has its own descriptor.
Goals on the 2-core machine: 250 ms, 1000 ms, 5 s, and a ratio near 1.

``--only query|reindex|hnsw`` runs one group of keys.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from synthetic_features import as_sequence, random_walk

from avr_gui.core.align.ranking import default_ranking
from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library
from avr_gui.core.library.ann import ClipIndex, recall_vs_exact
from avr_gui.core.library.scan import fingerprint


def build_library(root: Path, n_clips: int, d: int, pool: int, seed: int = 0) -> list[np.ndarray]:
    """A library of ``n_clips`` rows sharing ``pool`` stored arrays; returns the pool."""
    rng = np.random.default_rng(seed)
    arrays = [random_walk(rng, int(rng.integers(100, 601)), d) for _ in range(pool)]
    with Library.open(root) as lib:
        lib.add_features(
            (f"pool/{k:05d}", as_sequence(a, f"pool/{k:05d}")) for k, a in enumerate(arrays)
        )
        cat = lib._catalog
        base = cat.rows()
        rows = []
        for k in range(n_clips - pool):
            src = base[k % pool]
            desc = np.frombuffer(src.descriptor, np.float32)
            jitter = desc + rng.standard_normal(desc.shape).astype(np.float32) * 0.3
            rows.append(replace(src, path=f"clip/{k:06d}", descriptor=jitter.tobytes()))
        with cat.transaction() as tx:
            cat.put(rows, tx)
            cat.bump_generation(tx)
    return arrays


def retimed_query(src: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``src`` resampled to ``n`` frames plus noise: a re-timed copy to query with."""
    idx = np.linspace(0, len(src) - 1, n).round().astype(int)
    return src[idx] + 0.5 * rng.standard_normal((n, src.shape[1])).astype(np.float32)


def _all_cues(sim: np.ndarray, dq: np.ndarray, nc: np.ndarray) -> np.ndarray:
    """The shipped score through a scorer of one's own: the query then computes every
    cue (DRAQ of every candidate), as it did before unused cues were skipped."""
    return default_ranking().score(sim, dq, nc, np.zeros_like(sim))


def time_queries(
    root: Path, arrays: list[np.ndarray], n_queries: int = 12, compare_all_cues: bool = False
) -> tuple[float, float, float | None]:
    """Median wall and process-CPU milliseconds per query (CPU time shows the cost
    when other work shares the machine); with ``compare_all_cues`` also the median
    CPU milliseconds of the same queries computing every cue, each query run both
    ways in turn (same result lists asserted)."""
    with Library.open(root) as lib:
        return time_queries_on(lib, arrays, n_queries, compare_all_cues)


def time_queries_on(
    lib: Library, arrays: list[np.ndarray], n_queries: int = 12, compare_all_cues: bool = False
) -> tuple[float, float, float | None]:
    """:func:`time_queries` on an open library."""
    rng = np.random.default_rng(1)
    lib.search_index()  # built once per catalog change, not per query
    q0 = arrays[0][:300] + rng.standard_normal(arrays[0][:300].shape).astype(np.float32)
    lib.query(as_sequence(q0, "warmup"), top=10, candidates=50)  # compile kernels
    times, cpu, cpu_all = [], [], []
    for k in range(n_queries):
        src = arrays[int(rng.integers(len(arrays)))]
        n = 150 + 23 * k  # distinct lengths: DRAQ's per-shape cache starts cold
        q = retimed_query(src, n, rng)
        if compare_all_cues:
            # First, so that its cold DRAQ caches are not warmed by the other run.
            c0 = time.process_time()
            ref = lib.query(as_sequence(q, f"q{k}"), top=10, candidates=50, scorer=_all_cues)
            cpu_all.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        res = lib.query(as_sequence(q, f"q{k}"), top=10, candidates=50)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert len(res.results) == 10
        if compare_all_cues:
            assert [m.path for m in res.results] == [m.path for m in ref.results]
    all_ms = float(np.median(cpu_all) * 1000) if compare_all_cues else None
    return float(np.median(times) * 1000), float(np.median(cpu) * 1000), all_ms


class _TimedNumpy:
    """``numpy`` for ``core/align/cost.py`` with ``matmul`` timed (the rest unchanged)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(np, name)

    def matmul(self, *args: object, **kwargs: object) -> np.ndarray:
        t0 = time.perf_counter()
        out = np.matmul(*args, **kwargs)
        self.seconds += time.perf_counter() - t0
        return out


def products_share(
    root: Path, arrays: list[np.ndarray], n_queries: int = 12
) -> tuple[float, float]:
    """Median ms of the cost-matrix products per query and their median share of it."""
    import avr_gui.core.align.cost as cost_mod

    timed = _TimedNumpy()
    cost_mod.np = timed  # type: ignore[assignment]  # instrumentation for this run only
    try:
        with Library.open(root) as lib:
            lib.search_index()
            # The same queries as time_queries_on draws (its warm-up first).
            rng = np.random.default_rng(1)
            q0 = arrays[0][:300] + rng.standard_normal(arrays[0][:300].shape).astype(np.float32)
            lib.query(as_sequence(q0, "warmup"), top=10, candidates=50)
            products, shares = [], []
            for k in range(n_queries):
                src = arrays[int(rng.integers(len(arrays)))]
                q = retimed_query(src, 150 + 23 * k, rng)
                timed.seconds = 0.0
                t0 = time.perf_counter()
                lib.query(as_sequence(q, f"p{k}"), top=10, candidates=50)
                wall = time.perf_counter() - t0
                products.append(timed.seconds)
                shares.append(timed.seconds / wall)
    finally:
        cost_mod.np = np
    return float(np.median(products) * 1000), float(np.median(shares))


def _big_clip(path: Path) -> None:
    """10 s of noisy 640x480 video (~12 MB): hashing it costs what a real clip's does."""
    frames = render_frames(0, speed_warp(150, (1.0,)), (640, 480), ClipStyle())
    noise = np.random.default_rng(3).integers(-40, 40, frames.shape, dtype=np.int16)
    write_video(path, np.clip(frames + noise, 0, 255).astype(np.uint8), 15.0)


def reindex_unchanged(root: Path, n_files: int = 10_000, touched: int = 100) -> dict[str, float]:
    """First index, unchanged re-index and re-index after touching ``touched`` files.

    The library holds ``n_files`` files: hard links of one small clip, and ``touched``
    independent copies of a big clip (a touch must change one file's time only).
    """
    videos = root / "videos"
    videos.mkdir(parents=True)
    src = videos / "source.mp4"
    write_video(src, render_frames(0, speed_warp(20, (1.0,)), (64, 48), ClipStyle()), 15.0)
    big = root / "big.mp4"
    _big_clip(big)
    copies = [videos / f"big{k:03d}.mp4" for k in range(touched)]
    for c in copies:
        shutil.copyfile(big, c)
    for k in range(n_files - 1 - touched):
        sub = videos / f"d{k // 100:03d}"
        sub.mkdir(exist_ok=True)
        os.link(src, sub / f"clip{k:05d}.mp4")
    with Library.open(root / "index", encoder=get_encoder("thumb16")) as lib:
        lib.add_folder(videos)
        t0 = time.perf_counter()
        first = lib.index()
        t_first = time.perf_counter() - t0
        assert first.indexed == n_files and first.encoded == 2, first
    # Best of three of each (the machine is shared): unchanged re-index, hashing the
    # files directly, re-index after touching them; all read from a warm cache.
    t_again = t_hash = t_touched = float("inf")
    with Library.open(root / "index") as lib:
        for _ in range(3):
            t0 = time.perf_counter()
            again = lib.index()
            t_again = min(t_again, time.perf_counter() - t0)
            assert again.unchanged == n_files and again.encoded == 0, again
        for _ in range(3):
            t0 = time.perf_counter()
            for c in copies:
                fingerprint(c)
            t_hash = min(t_hash, time.perf_counter() - t0)
        for _ in range(3):
            for c in copies:
                st = c.stat()
                os.utime(c, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
            t0 = time.perf_counter()
            after = lib.index()
            t_touched = min(t_touched, time.perf_counter() - t0)
            assert after.unchanged == n_files - touched and after.encoded == 0, after
    return {
        "index_10k_copies_s": round(t_first, 2),
        "reindex_unchanged_10k_s": round(t_again, 3),
        "reindex_touched_1pct_10k_s": round(t_touched, 3),
        "hash_touched_1pct_10k_s": round(t_hash, 3),
        "reindex_touched_1pct_ratio": round((t_touched - t_again) / t_hash, 2),
    }


def hnsw_recall(n: int = 20_000, dim: int = 512) -> tuple[float, float]:
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    v = centres[rng.integers(200, size=n)] + rng.standard_normal((n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    t0 = time.perf_counter()
    index = ClipIndex.build(v, "hnsw")
    build_s = time.perf_counter() - t0
    return recall_vs_exact(index, v, v[:200], 50), build_s


def shown_batch_over_loop(arrays: list[np.ndarray], repeats: int = 7) -> float:
    """Time of aligning a query's 10 shown matches in one batch over one call each.

    Best of ``repeats`` each, interleaved; the same 300-frame query against 10 stored
    arrays of the library (d = 256), contextualized, partial alignment as shown.
    """
    from avr_gui.core.align.shown import shown_alignment, shown_alignments

    rng = np.random.default_rng(2)
    q = arrays[0][:300] + rng.standard_normal(arrays[0][:300].shape).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    cands = [a / np.linalg.norm(a, axis=1, keepdims=True) for a in arrays[1:11]]
    shown_alignments(q, cands)  # compile
    best = {"batch": float("inf"), "loop": float("inf")}
    for _ in range(repeats):
        t0 = time.perf_counter()
        shown_alignments(q, cands)
        best["batch"] = min(best["batch"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        for c in cands:
            shown_alignment(q, c)
        best["loop"] = min(best["loop"], time.perf_counter() - t0)
    return best["batch"] / best["loop"]


def _queries(tmp: Path, out: dict[str, float]) -> None:
    """The query keys (10k, 100k, 10k at d = 1280) into ``out``."""
    arrays = build_library(tmp / "lib10k", 10_000, 256, 500)
    out["shown_batch_over_loop"] = round(shown_batch_over_loop(arrays), 2)
    print("shown_batch_over_loop", out["shown_batch_over_loop"], flush=True)
    wall, cpu, cpu_all = time_queries(tmp / "lib10k", arrays, compare_all_cues=True)
    out["query_ms_10k"], out["query_cpu_ms_10k"] = round(wall, 1), round(cpu, 1)
    assert cpu_all is not None
    out["query_cpu_ms_10k_all_cues"] = round(cpu_all, 1)
    out["query_cpu_all_cues_over_used"] = round(cpu_all / cpu, 2)
    print("query_ms_10k", out["query_ms_10k"], flush=True)
    products_ms, share = products_share(tmp / "lib10k", arrays)
    out["query_products_ms_10k"], out["query_products_share_10k"] = (
        round(products_ms, 1),
        round(share, 2),
    )
    print("query_products_ms_10k", out["query_products_ms_10k"], share, flush=True)
    arrays = build_library(tmp / "lib100k", 100_000, 256, 500)
    wall, cpu, _ = time_queries(tmp / "lib100k", arrays)
    out["query_ms_100k"], out["query_cpu_ms_100k"] = round(wall, 1), round(cpu, 1)
    print("query_ms_100k", out["query_ms_100k"], flush=True)
    shutil.rmtree(tmp / "lib100k")
    arrays = build_library(tmp / "lib10k_d1280", 10_000, 1280, 200)
    with Library.open(tmp / "lib10k_d1280") as lib:
        proj = lib.projection()
    # What a d = 1280 library re-ranks on: its compact copies (library/projection.py).
    out["query_d1280_ranked_dims"] = 1280 if proj is None else int(proj.basis.shape[1])
    wall, cpu, _ = time_queries(tmp / "lib10k_d1280", arrays)
    out["query_ms_10k_d1280"], out["query_cpu_ms_10k_d1280"] = round(wall, 1), round(cpu, 1)
    print("query_ms_10k_d1280", out["query_ms_10k_d1280"], flush=True)
    with Library.open(tmp / "lib10k_d1280") as lib:
        lib.use_compact = False
        wall, cpu, _ = time_queries_on(lib, arrays)
    out["query_ms_10k_d1280_full"] = round(wall, 1)
    out["query_d1280_compact_over_full"] = round(out["query_ms_10k_d1280"] / wall, 2)
    print("query_ms_10k_d1280_full", out["query_ms_10k_d1280_full"], flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", help="build in this folder and keep it (default: a temp folder)")
    ap.add_argument("--only", choices=["query", "reindex", "hnsw"], help="run one group")
    args = ap.parse_args()
    run = {args.only} if args.only else {"query", "reindex", "hnsw"}
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="bench_query "))
    out: dict[str, float] = {"load_average_1min_at_start": round(os.getloadavg()[0], 2)}
    try:
        if "query" in run:
            _queries(tmp, out)
        if "reindex" in run:
            for key, value in reindex_unchanged(tmp / "reindex").items():
                out[key] = value
                print(key, value, flush=True)
        if "hnsw" in run:
            recall, build_s = hnsw_recall()
            out["hnsw_recall_at_50_20k"] = round(recall, 4)
            out["hnsw_build_20k_s"] = round(build_s, 2)
            print("hnsw_recall_at_50_20k", out["hnsw_recall_at_50_20k"], flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
