"""Export speed on real 720p clips, as a multiple of real time.

Run: ``python benchmarks/bench_export.py [--data ../shared/data] [--query pushup5.mp4]
[--match pushup.mp4] [--backend thumb16] [--repeats 2] [--json PATH]``.

The query and match are real 1280x720 phone/web clips with sound from
``DATA/real``. The time map comes from the real alignment (reported separately);
each export mode is then timed, best of ``--repeats``, with the decode-only time of
the same frames (FrameReader, sequential) beside it so the encoder's share is
visible. "x real time" = output duration / wall time (above 1 = faster than playback);
the CPU seconds of all threads are given too, since a shared machine inflates wall time.
Exits with status 2 and a message when the data folder is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from avr_gui.core.atomic import write_text
from avr_gui.core.export import EncodeOptions, align_for_export, export_video
from avr_gui.core.features import get_encoder
from avr_gui.core.video import FrameReader, probe

MODES = (("retimed", "match"), ("retimed", "none"), ("side-by-side", "query"), ("reverse", "none"))


def _default_data() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _decode_only(path: Path, frames: list[int]) -> float:
    t0 = time.perf_counter()
    with FrameReader(path) as r:
        for i in frames:
            r.read(i)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="evaluation data folder (default ../shared/data)")
    ap.add_argument("--query", default="pushup5.mp4")
    ap.add_argument("--match", default="pushup.mp4")
    ap.add_argument("--backend", default="thumb16", help="encoder of the alignment")
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", default=None, metavar="PATH", help="also write the results here")
    args = ap.parse_args(argv)
    real = (Path(args.data) if args.data else _default_data()) / "real"
    query, match = real / args.query, real / args.match
    missing = [str(p) for p in (query, match) if not p.is_file()]
    if missing:
        print(
            f"bench_export: missing {', '.join(missing)}: this benchmark needs the real clips "
            "of ../shared/data (set --data)",
            file=sys.stderr,
        )
        return 2
    qi, mi = probe(query), probe(match)
    t0 = time.perf_counter()
    fmap, curve, res = align_for_export(query, match, get_encoder(args.backend))
    align_s = time.perf_counter() - t0
    print(
        f"query {query.name} {qi.width}x{qi.height} {qi.fps:.2f} fps {qi.duration_s:.2f} s; "
        f"match {match.name} {mi.width}x{mi.height} {mi.fps:.2f} fps {mi.duration_s:.2f} s"
    )
    print(f"alignment ({args.backend}): {align_s:.2f} s, DRAQ {res.draq:.3f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, audio in MODES:
            best = cpu = float("inf")
            result = None
            for _ in range(args.repeats):
                out = Path(tmp) / f"{mode}.mp4"
                c0 = time.process_time()
                result = export_video(
                    query,
                    match,
                    out,
                    fmap,
                    mode=mode,
                    audio=audio,
                    curve=curve,
                    options=EncodeOptions(preset=args.preset),
                )
                best = min(best, result.seconds)
                cpu = min(cpu, time.process_time() - c0)
            assert result is not None
            src = match if mode != "reverse" else query
            decode_s = _decode_only(src, [int(i) for i in result.source_frames])
            duration = result.frame_count / result.fps
            row = {
                "mode": mode,
                "audio": audio,
                "size": f"{result.size[0]}x{result.size[1]}",
                "frames": result.frame_count,
                "output_s": round(duration, 3),
                "wall_s": round(best, 3),
                "cpu_s": round(cpu, 3),
                "x_real_time": round(duration / best, 2),
                "decode_only_s": round(decode_s, 3),
                "codec": result.codec,
            }
            rows.append(row)
            print(
                f"{mode:13s} audio={audio:5s} {row['size']:>9s} {row['frames']:4d} frames  "
                f"{best:6.2f} s  = {row['x_real_time']:5.2f}x real time  "
                f"(CPU {cpu:.2f} s; decode alone {decode_s:.2f} s)"
            )
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        "query": query.name,
        "match": match.name,
        "preset": args.preset,
        "align_s": round(align_s, 3),
        "rows": rows,
    }
    if args.json:
        write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
