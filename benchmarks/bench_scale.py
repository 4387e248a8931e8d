"""Search at a million clips: compressed index, query time, memory, recall.

Keys (``--json PATH``), for N = 1,000,000 (``_1m``) and 100,000 (``_100k``) clips:

- ``query_ms_1m``: query features -> ranked top 10 after re-ranking K = 50 (retrieval
  in the compressed index + exact re-scoring of its shortlist + bank normalisation +
  loading the 50 candidates' stored frames + alignment), median over
  :data:`N_QUERIES` queries; ``query_cpu_ms_1m`` the process CPU time of the same;
  ``retrieval_ms_1m`` the retrieval alone (K candidates from the index), timed apart.
- ``peak_rss_mb_1m``: peak resident memory of the query process (opening the library,
  loading the saved index, the queries), from ``getrusage``.
- ``recall10_1m``: share of the exact top 10 (inner product over every standardised
  clip vector) that the index returns, same queries. ``candidates_recall50_1m``: the
  same for the K = 50 candidates the library re-ranks (cosine top ``POOL`` re-ordered
  by bank normalisation, exact versus compressed). ``recall10_near_rows_1m``: recall@10
  of 200 harder queries, library vectors plus noise (``_near_rows``).
- ``index_build_s_1m``: building the compressed index from the catalog (reading the
  descriptors, standardising, bank masses, training, adding, saving), in a process of
  its own; ``index_build_peak_rss_mb_1m`` its peak memory.
- ``--compare``: ``compare_<kind>_{recall10,query_ms,build_s,mb}`` for IVF-PQ with a flat
  and with an HNSW coarse quantizer on the same vectors (the choice in
  :mod:`avr_gui.core.scale.compressed`).

The synthetic library (cached in ``--scratch``, default ``out/bench_scale``): ``N / 50``
distinct stored clips of 16-40 frames of 256-d float16 (random walks, as in
``bench_query.py``) and N catalog rows, each naming one stored clip (content-keyed
storage lets rows share one, as copies of a video do) with its own jittered clip
descriptor; so the catalog, the descriptors and the index have N entries and each
query reads its 50 candidates' frames from disk through memory maps. The 100k library
is forced into the compressed tier too (its shipped tier is exact search), so the two
sizes compare like with like.

``--ray``: the Ray engine's figures from ``benchmarks/bench_ray.py`` (``measure_ray``),
merged into the same JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from synthetic_features import as_sequence, random_walk

if TYPE_CHECKING:
    from avr_gui.core.features import FeatureSequence
    from avr_gui.core.library import Library

D_FRAME = 256
CLIPS_PER_ARRAY = 50
N_QUERIES = 24
TOP, CANDIDATES = 10, 50
#: Bumped when the generator changes: a cached library of another format is rebuilt.
FORMAT = 1
#: The tier threshold the benchmark forces, so that 100k clips use the compressed index.
FORCED_LIMIT = 50_000
HERE = Path(__file__).resolve().parent


def generate(root: Path, n_clips: int, seed: int = 0) -> dict[str, float]:
    """A synthetic library of ``n_clips`` rows in ``root`` (reused when already there).

    Returns
    -------
    dict
        ``generate_s`` (0 when cached) and the library's sizes on disk.
    """
    from avr_gui.core.library import Library

    marker = root / "generated.json"
    want = {"format": FORMAT, "n_clips": n_clips, "seed": seed, "per_array": CLIPS_PER_ARRAY}
    if marker.is_file() and json.loads(marker.read_text()).get("params") == want:
        return json.loads(marker.read_text())["figures"]
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pool = max(1, n_clips // CLIPS_PER_ARRAY)
    with Library.open(root) as lib:
        chunk = 2000
        for a in range(0, pool, chunk):
            arrays = [
                (
                    f"pool/{k:06d}",
                    as_sequence(random_walk(rng, int(rng.integers(16, 41)), D_FRAME), ""),
                )
                for k in range(a, min(pool, a + chunk))
            ]
            lib.add_features(arrays)
            print(f"stored {min(pool, a + chunk)}/{pool} arrays", flush=True)
        cat = lib._catalog
        base = cat.rows()
        descs = np.stack([np.frombuffer(r.descriptor or b"", np.float32) for r in base])
        rest = n_clips - pool
        step = 50_000
        for a in range(0, rest, step):
            ks = np.arange(a, min(rest, a + step))
            src = ks % pool
            # Each row its own descriptor: the base clip's, jittered by a random amount
            # (bench_query's 0.3, scaled by 0.5-1.5 so that neighbours sit at spread
            # distances rather than all at one).
            sigma = 0.3 * rng.uniform(0.5, 1.5, size=(len(ks), 1)).astype(np.float32)
            jitter = descs[src] + sigma * rng.standard_normal((len(ks), descs.shape[1]), np.float32)
            rows = [
                replace(base[s], path=f"clip/{k:07d}", descriptor=j.tobytes())
                for k, s, j in zip(ks, src, jitter, strict=True)
            ]
            with cat.transaction() as tx:
                cat.put(rows, tx)
            print(f"catalog {pool + a + len(ks)}/{n_clips} rows", flush=True)
        with cat.transaction() as tx:
            cat.bump_generation(tx)
    figures = {
        "generate_s": round(time.perf_counter() - t0, 1),
        "catalog_mb": round((root / "catalog.sqlite").stat().st_size / 2**20, 1),
        "features_mb": round(
            sum(p.stat().st_size for p in (root / "features").rglob("*") if p.is_file()) / 2**20,
            1,
        ),
    }
    marker.write_text(json.dumps({"params": want, "figures": figures}) + "\n")
    return figures


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _force_limit() -> None:
    from avr_gui.core.library import ann

    ann.COMPRESSED_LIMIT = FORCED_LIMIT


def stage_build(root: Path) -> dict[str, float]:
    """Build the compressed index from scratch (in this process) and time it."""
    from avr_gui.core.library import Library
    from avr_gui.core.library.search import remove_saved

    _force_limit()
    remove_saved(root)
    with Library.open(root) as lib:
        t0 = time.perf_counter()
        idx = lib.search_index()  # nothing saved: this waits for the build
        build_s = time.perf_counter() - t0
        assert idx.index.kind == "ivfpq", idx.index.kind
    return {"index_build_s": round(build_s, 1), "index_build_peak_rss_mb": round(_peak_rss_mb())}


def _queries(lib: Library, n: int, seed: int = 1) -> list[FeatureSequence]:
    """``n`` queries: stored clips resampled to another length, plus noise."""
    rng = np.random.default_rng(seed)
    # A range on the primary key, not LIKE (which would scan the whole catalog).
    pool = [r.path for r in lib._catalog.rows("path >= 'pool/' AND path < 'pool0'")]
    out = []
    for k in range(n):
        src = np.asarray(lib.features(pool[int(rng.integers(len(pool)))]).features, np.float32)
        m = int(rng.integers(16, 61))
        idx = np.linspace(0, len(src) - 1, m).round().astype(int)
        q = src[idx] + 0.5 * rng.standard_normal((m, src.shape[1])).astype(np.float32)
        out.append(as_sequence(q, f"q{k}"))
    return out


def stage_query(root: Path, out_npz: Path) -> dict[str, float]:
    """Time queries on the saved index; save what recall needs to ``out_npz``."""
    from avr_gui.core.library import Library
    from avr_gui.core.library.descriptor import clip_descriptor

    _force_limit()
    with Library.open(root, readonly=True) as lib:
        t0 = time.perf_counter()
        idx = lib.search_index()
        load_s = time.perf_counter() - t0
        assert idx.index.kind == "ivfpq", idx.index.kind
        queries = _queries(lib, N_QUERIES + 1)
        lib.query(queries[0], top=TOP, candidates=CANDIDATES)  # compile kernels
        wall, cpu, top10, cands, qvecs, retrieval = [], [], [], [], [], []
        for q in queries[1:]:
            t0, c0 = time.perf_counter(), time.process_time()
            res = lib.query(q, top=TOP, candidates=CANDIDATES)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert len(res.results) == TOP
            # What recall is measured on (outside the timing): the index's top 10 and
            # the library's K candidates for the same standardised query vector.
            qv = idx.standardizer.transform(clip_descriptor(q.features))
            qvecs.append(qv[0])
            top10.append(idx.index.search(qv, TOP)[1][0])
            t0 = time.perf_counter()
            hits = idx.search(clip_descriptor(q.features), CANDIDATES)
            retrieval.append(time.perf_counter() - t0)
            cands.append([idx.paths.index(p) for p, _ in hits])
        peak = _peak_rss_mb()
    np.savez(out_npz, q=np.stack(qvecs), top10=np.stack(top10), cands=np.array(cands, np.int64))
    return {
        "query_ms": round(float(np.median(wall)) * 1000, 1),
        "query_cpu_ms": round(float(np.median(cpu)) * 1000, 1),
        "query_ms_p90": round(float(np.percentile(wall, 90)) * 1000, 1),
        "retrieval_ms": round(float(np.median(retrieval)) * 1000, 1),
        "index_load_s": round(load_s, 2),
        "peak_rss_mb": round(peak),
    }


def _near_rows(vec: np.ndarray, n: int = 200, seed: int = 7) -> np.ndarray:
    """``n`` harder queries: library vectors plus noise (cosine ~0.9 to their source),
    whose neighbours are a cluster of near-equals rather than one clear family."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(vec), n, replace=False))
    q = np.asarray(vec[rows]) + 0.02 * rng.standard_normal((n, vec.shape[1]), np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _exact_top(q: np.ndarray, vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` inner products of ``q`` over ``vec``, in chunks of the memory map."""
    best_s = np.full((len(q), k), -np.inf, np.float32)
    best_i = np.full((len(q), k), -1, np.int64)
    for a in range(0, len(vec), 65_536):
        s = q @ np.asarray(vec[a : a + 65_536]).T
        s_all = np.concatenate([best_s, s], axis=1)
        i_all = np.concatenate([best_i, np.arange(a, a + s.shape[1])[None].repeat(len(q), 0)], 1)
        top = np.argsort(-s_all, axis=1, kind="stable")[:, :k]
        best_s = np.take_along_axis(s_all, top, 1)
        best_i = np.take_along_axis(i_all, top, 1)
    return best_s, best_i


def _recall(got: np.ndarray, exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(got, exact, strict=True)]))


def stage_recall(root: Path, got_npz: Path) -> dict[str, float]:
    """Exact answers for the saved queries (chunked over the memory-mapped vectors)."""
    from avr_gui.core.align.banknorm import normalize
    from avr_gui.core.library.search import POOL, load_current

    _force_limit()
    bundle = load_current(root)
    assert bundle is not None
    got = np.load(got_npz, allow_pickle=False)
    q, vec = got["q"], bundle.index.compressed.vectors
    near = _near_rows(vec)
    pool = max(POOL, 4 * CANDIDATES)
    best_s, best_i = _exact_top(np.concatenate([q, near]), vec, pool)
    r10 = _recall(got["top10"], best_i[: len(q), :TOP])
    near_got = bundle.index.search(near, TOP)[1]
    rc = []
    for row in range(len(q)):
        sims, ids = best_s[row], best_i[row]
        order = np.argsort(-normalize(sims.astype(np.float64), bundle.log_mass[ids]), kind="stable")
        exact = set(ids[order[:CANDIDATES]])
        rc.append(len(exact & set(got["cands"][row])) / CANDIDATES)
    return {
        "recall10": round(r10, 4),
        "recall10_near_rows": round(_recall(near_got, best_i[len(q) :, :TOP]), 4),
        "candidates_recall50": round(float(np.mean(rc)), 4),
    }


def compare(root: Path, n_queries: int = 200) -> dict[str, float]:
    """IVF-PQ with a flat versus an HNSW coarse quantizer, on the library's vectors."""
    from avr_gui.core.library.search import load_current
    from avr_gui.core.scale.compressed import CompressedIndex

    _force_limit()
    bundle = load_current(root)
    assert bundle is not None
    vec = bundle.index.compressed.vectors
    q = _near_rows(vec, n_queries)
    exact = _exact_top(q, vec, TOP)[1]
    out: dict[str, float] = {}
    for kind in ("flat", "hnsw"):
        t0 = time.perf_counter()
        ci = CompressedIndex.build(vec, quantizer=kind)
        out[f"compare_{kind}_build_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        got = [ci.search(q[i : i + 1], TOP)[1][0] for i in range(n_queries)]
        out[f"compare_{kind}_query_ms"] = round((time.perf_counter() - t0) / n_queries * 1000, 2)
        out[f"compare_{kind}_recall10"] = round(_recall(np.array(got), exact), 4)
        import faiss

        out[f"compare_{kind}_index_mb"] = round(faiss.serialize_index(ci.index).nbytes / 2**20, 1)
        print(kind, {k: v for k, v in out.items() if f"_{kind}_" in k}, flush=True)
    return out


def _run_stage(stage: str, root: Path, extra: list[str] | None = None) -> dict[str, float]:
    """One stage in a fresh process (its peak memory is its own)."""
    cmd = [sys.executable, __file__, "--stage", stage, "--lib", str(root), *(extra or [])]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    sys.stderr.write(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure(scratch: Path, n: int, tag: str, rebuild: bool, do_compare: bool) -> dict[str, float]:
    """Every key of one library size, suffixed with ``tag``."""
    root = scratch / f"lib{tag}"
    out: dict[str, float] = {}
    for key, value in generate(root, n).items():
        out[f"{key}_{tag}"] = value
    print(f"library {tag}: {out}", flush=True)
    # The build's figures are kept beside the cached library: a run that reuses the
    # index still reports what building it took (and when it was measured).
    built = root / "build_figures.json"
    if rebuild or not (root / "clips.scale" / "current.json").is_file() or not built.is_file():
        figures = _run_stage("build", root)
        figures["measured_at_load_average"] = round(os.getloadavg()[0], 2)
        built.write_text(json.dumps(figures) + "\n")
        print(f"build {tag}: {figures}", flush=True)
    for key, value in json.loads(built.read_text()).items():
        out[f"{key}_{tag}"] = value
    got = scratch / f"queries{tag}.npz"
    for key, value in _run_stage("query", root, ["--out", str(got)]).items():
        out[f"{key}_{tag}"] = value
    for key, value in _run_stage("recall", root, ["--out", str(got)]).items():
        out[f"{key}_{tag}"] = value
    if do_compare:
        for key, value in _run_stage("compare", root).items():
            out[f"{key}_{tag}"] = value
    print(f"{tag}: {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--scratch", default="out/bench_scale", help="library cache folder")
    ap.add_argument("--sizes", default="100k,1m", help="comma list of 100k, 1m")
    ap.add_argument("--rebuild", action="store_true", help="rebuild cached indexes (timed)")
    ap.add_argument("--compare", action="store_true", help="flat vs HNSW coarse quantizer")
    ap.add_argument("--ray", action="store_true", help="add bench_ray.py's measure_ray()")
    ap.add_argument("--stage", choices=["generate", "build", "query", "recall", "compare"])
    ap.add_argument("--lib", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        root = Path(args.lib)
        if args.stage == "generate":
            res = generate(root, args.n)
        elif args.stage == "build":
            res = stage_build(root)
        elif args.stage == "query":
            res = stage_query(root, Path(args.out))
        elif args.stage == "recall":
            res = stage_recall(root, Path(args.out))
        else:
            res = compare(root)
        print(json.dumps(res))
        return
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    out: dict[str, object] = {
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count() or 0,
    }
    sizes = {"100k": 100_000, "1m": 1_000_000}
    for tag in args.sizes.split(","):
        out.update(measure(scratch, sizes[tag], tag, args.rebuild, args.compare))
    # ---- Ray engine figures (issue 20 item 4): filled by benchmarks/bench_ray.py -------
    if args.ray:
        ray_bench = HERE / "bench_ray.py"
        if ray_bench.is_file():
            sys.path.insert(0, str(HERE))
            from bench_ray import measure_ray  # type: ignore[import-not-found]

            out.update(measure_ray())
        else:
            print("benchmarks/bench_ray.py is missing: no Ray figures", flush=True)
    # ------------------------------------------------------------------------------------
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
