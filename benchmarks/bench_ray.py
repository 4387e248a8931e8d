"""Throughput of the Ray indexing engine against the local engine on this machine.

Run: ``python benchmarks/bench_ray.py [--encoder effnet-lite0] [--clips N]
[--workers 1 2] [--cpus 2] [--repeats 1] [--json out/bench_ray.json]``.

A folder of distinct clips (the real clips of ``../shared/data/real``, the ``--clips``
shortest of them when given, else generated 320x240 clips) is indexed into a fresh
index folder by the local engine (:meth:`Library.index`) and by
:func:`~avr_gui.core.scale.ray_engine.index_with_ray` with 1 and 2 encoder actors on a
local Ray cluster of ``--cpus`` CPUs (started once, loopback only; its start is
reported apart as ``ray_start_s``). Timed for both engines: the whole job from loading
the encoder to the last commit (scan, hashing, decode, encode, writes, commits; for Ray
also the pipeline start: worker processes, actors loading the model). Reported:
sampled frames per second of each engine and ``ray_over_local_{w}`` (Ray throughput /
local throughput; 1.0 = as fast). ``ray_fixed_s`` / ``local_fixed_s`` time the same
job on the single shortest clip: the cost of a run that does almost no work, which a
large library amortises; ``marginal_ray_over_local_{w}`` is the ratio with those fixed
costs taken off both engines. ``max_abs_diff_vs_local`` is the largest difference between
the engines' stored features (0 = bit-equal). ``load_1min`` is the machine's load when
the run ended: compare figures only between runs on an equally quiet machine.
:func:`measure_ray` is what ``bench_scale.py`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from math import inf
from pathlib import Path
from typing import Any

import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.features import get_encoder
from avr_gui.core.library import Library

REAL = Path(__file__).resolve().parents[1].parent / "shared/data/real"


def _clips(folder: Path, n: int | None) -> str:
    """Put distinct clips in ``folder`` (``n`` shortest, or all); say what they are."""
    real = sorted(REAL.glob("*.mp4")) if REAL.is_dir() else []
    if real:
        from avr_gui.core.video.probe import probe

        real.sort(key=lambda p: (probe(p).duration_s, p.name))
        for p in real[:n]:
            shutil.copy(p, folder / p.name)
        return "real"
    for k in range(n or 6):
        from avr_gui.core.demo.synth import ClipStyle, render_frames, speed_warp, write_video

        frames = render_frames(k % 3, speed_warp(150, (1.0,)), (320, 240), ClipStyle(seed=k))
        write_video(folder / f"gen{k:02d}.mp4", frames, 15.0)  # 10 s at 15 fps
    return "generated 320x240"


def _frames(index: Path) -> int:
    with Library.open(index, readonly=True) as lib:
        return sum(e.n_features for e in lib.entries() if e.status == "indexed")


def _max_diff(index: Path, reference: Path) -> float:
    """Largest absolute difference between two libraries' stored features."""
    worst = 0.0
    with Library.open(index, readonly=True) as a, Library.open(reference, readonly=True) as b:
        for e in b.entries():
            if e.status == "indexed":
                fa, fb = a.features(e.path).features, b.features(e.path).features
                worst = max(worst, float(np.abs(fa - fb).max()) if fa.shape == fb.shape else inf)
    return worst


def _index(videos: Path, index: Path, encoder: str, workers: int) -> float:
    """Seconds to index ``videos``: locally (``workers`` 0) or on Ray."""
    from avr_gui.core.scale.ray_engine import index_with_ray

    with Library.open(index) as lib:
        lib.add_folder(videos)
    # Both engines load the model inside the timed job (Ray's actors must).
    t0 = time.perf_counter()
    with Library.open(index, encoder=get_encoder(encoder)) as lib:
        if workers:
            index_with_ray(lib, workers=workers)
        else:
            lib.index()
    return time.perf_counter() - t0


def measure_ray(
    *,
    encoder: str = "effnet-lite0",
    clips: int | None = None,
    workers: Sequence[int] = (1, 2),
    cpus: int = 2,
    repeats: int = 1,
) -> dict[str, Any]:
    """Index the same clips with the local engine and with Ray; compare throughputs.

    Parameters
    ----------
    encoder : str
        Registry name of the encoder (both engines use it).
    clips : int, optional
        Distinct clips indexed: the shortest real ones (default all), else generated.
    workers : sequence of int
        Encoder actor counts to measure the Ray engine with.
    cpus : int
        CPUs of the local Ray cluster.
    repeats : int
        Runs of each engine; the best is kept. Runs are interleaved.

    Returns
    -------
    dict
        ``frames``, ``local_frames_per_s``, ``ray{w}_frames_per_s``,
        ``ray_over_local_{w}``, ``marginal_ray_over_local_{w}``, ``ray_fixed_s``,
        ``local_fixed_s``, ``ray_start_s``,
        ``max_abs_diff_vs_local``, ``load_1min`` and the set-up.
    """
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only
    import ray

    with tempfile.TemporaryDirectory(prefix="avr-bench-ray-") as tmp:
        videos = Path(tmp) / "videos"
        videos.mkdir()
        source = _clips(videos, clips)
        n_clips = len(list(videos.iterdir()))
        one = Path(tmp) / "one"
        one.mkdir()
        first = min(videos.iterdir(), key=lambda p: p.stat().st_size)
        shutil.copy(first, one / first.name)
        t0 = time.perf_counter()
        ray.init(
            num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="warning"
        )
        start_s = time.perf_counter() - t0
        best: dict[str, float] = {}
        frames = 0
        diff = 0.0
        try:
            # The fixed cost first: it also warms what every run would find warm
            # (files in the page cache, Ray's idle worker processes).
            local_fixed = _index(one, Path(tmp) / "fixed-local", encoder, 0)
            ray_fixed = _index(one, Path(tmp) / "fixed-ray", encoder, max(workers))
            for r in range(repeats):
                runs = [("local", 0)] + [(f"ray{w}", w) for w in workers]
                for name, w in runs:
                    index = Path(tmp) / f"{name}-{r}"
                    s = _index(videos, index, encoder, w)
                    frames = _frames(index)
                    best[name] = min(best.get(name, inf), s)
                    if w:
                        diff = max(diff, _max_diff(index, Path(tmp) / f"local-{r}"))
        finally:
            ray.shutdown()
    return {
        "encoder": encoder,
        "clips": n_clips,
        "source": source,
        "frames": frames,
        "cpus": cpus,
        "ray_start_s": round(start_s, 2),
        "local_fixed_s": round(local_fixed, 2),
        "ray_fixed_s": round(ray_fixed, 2),
        **{f"{k}_s": round(v, 2) for k, v in best.items()},
        **{f"{k}_frames_per_s": round(frames / v, 1) for k, v in best.items()},
        **{f"ray_over_local_{w}": round(best["local"] / best[f"ray{w}"], 3) for w in workers},
        # The same ratio once each engine's fixed cost (a one-clip run) is paid: what
        # a library much larger than this one would see.
        **{
            f"marginal_ray_over_local_{w}": round(
                (best["local"] - local_fixed) / max(best[f"ray{w}"] - ray_fixed, 1e-9), 3
            )
            for w in workers
        },
        # Stored (float16) features, Ray against local: 0 for thumb16; at most float16
        # rounding for network encoders.
        "max_abs_diff_vs_local": diff,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="effnet-lite0")
    ap.add_argument("--clips", type=int, default=None)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    out = measure_ray(
        encoder=args.encoder,
        clips=args.clips,
        workers=args.workers,
        cpus=args.cpus,
        repeats=args.repeats,
    )
    for k, v in out.items():
        print(f"{k:24s} {v}")
    if args.json:
        write_text(args.json, json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
