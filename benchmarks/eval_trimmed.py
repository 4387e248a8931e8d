"""Trimmed queries on real clips: is the source clip found, and where in it?

Run: ``python benchmarks/eval_trimmed.py [--data ../shared/data] [--work out/eval_real]
[--json out/eval_trimmed.json]`` (uses the libraries ``eval_real.py`` builds; a few
minutes).

For every labelled clip of E3 (``real/``) and E3b (``real2/``): take a 40-60 % excerpt
at a random place (seeded), make it a warped and restyled copy as E1 does (2-4
segments of speed 0.5-2x, crop 80-100 %, brightness, contrast, blur, noise), write it
as a 10 fps video, and query the clip's own library with that file (it is not in the
library; it is encoded like any new query). A hit: the source clip ranks first. The
span error: the larger of the differences between ``match_span_s`` and the true
window (the source times of the excerpt's first and last frames), in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from avr_gui.core.atomic import write_text
from avr_gui.core.demo.synth import write_video
from avr_gui.core.eval.e1 import MAX_SIDE, make_copy
from avr_gui.core.library import Library
from avr_gui.core.video.decode import sample_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_real import DEFAULT_DATA, label

FPS = 10.0


def excerpt_query(clip: Path, out: Path, seed: int) -> tuple[float, float]:
    """Write a warped 40-60 % excerpt of ``clip`` to ``out``; return its true window (s)."""
    frames, times = [], []
    for f in sample_frames(clip, FPS):
        img = f.image
        scale = MAX_SIDE / max(img.shape[:2])
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        frames.append(img)
        times.append(f.time)
    rng = np.random.default_rng(seed)
    n = len(frames)
    length = max(8, round(n * rng.uniform(0.4, 0.6)))
    start = int(rng.integers(0, n - length + 1))
    copy = make_copy(frames[start : start + length], seed)
    write_video(out, np.stack(copy.frames), FPS)
    src = start + copy.source
    return float(times[int(src.min())]), float(times[int(src.max())])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--work", type=Path, default=Path("out/eval_real"))
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="avr-trim-") as tmp:
        for name in ("real", "real2"):
            with Library.open(args.work / name) as lib:
                clips = [e.path for e in lib.entries() if e.status == "indexed"]
                for k, clip in enumerate(sorted(clips)):
                    if label(clip) == "other":
                        continue
                    q = Path(tmp) / f"{Path(clip).stem}_excerpt.mp4"
                    window = excerpt_query(Path(clip), q, seed=1000 + k)
                    res = lib.query(q, top=5)
                    ranks = [m.path for m in res.results]
                    rank = ranks.index(clip) + 1 if clip in ranks else None
                    err = None
                    if rank is not None:
                        m = res.results[rank - 1]
                        assert m.match_span_s is not None
                        err = max(
                            abs(m.match_span_s[0] - window[0]), abs(m.match_span_s[1] - window[1])
                        )
                    row = {
                        "clip": Path(clip).name,
                        "window_s": window,
                        "rank": rank,
                        "span_error_s": err,
                        "mode": res.results[rank - 1].mode if rank else None,
                        "by_pose": res.query_performer,
                    }
                    rows.append(row)
                    print(
                        f"{row['clip']:20s} window {window[0]:5.1f}-{window[1]:5.1f} s  rank "
                        f"{rank}  span error {err if err is None else round(err, 2)} s  "
                        f"{row['mode']}",
                        flush=True,
                    )
    first = sum(r["rank"] == 1 for r in rows)
    errs = [r["span_error_s"] for r in rows if r["rank"] == 1]
    within = sum(e <= 0.5 for e in errs)
    print(
        f"source clip first: {first}/{len(rows)}; span within 0.5 s: {within}/{first} "
        f"(median error {np.median(errs):.2f} s)"
    )
    if args.json:
        summary = {"first": first, "queries": len(rows), "span_within_0_5s": within}
        write_text(args.json, json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
